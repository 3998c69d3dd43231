import { z } from 'zod';
import {
  HttpError,
  parseJson,
  readBody,
  sendJson,
  startHttpServer,
  stopHttpServer,
  type EmulatorServer,
  type ListenOptions,
} from '../http.ts';

// Secrets Manager's GetSecretValue on its wire protocol (AWS JSON 1.1), for the Lambda entries' tests: they read
// their secrets through the real SDK client and Powertools Parameters. Counts calls, so caching shows.

export interface SecretsManagerEmulatorOptions extends ListenOptions {
  /** Secret id (name or ARN, as the caller sends it) → its SecretString. */
  secrets: Record<string, string>;
}

export interface SecretsManagerEmulator extends EmulatorServer {
  /** GetSecretValue calls per secret id. */
  calls: Map<string, number>;
}

const contentType = { 'content-type': 'application/x-amz-json-1.1' };
const awsError = (status: number, type: string, message: string) =>
  new HttpError(status, { __type: type, message }, contentType);
const getSecretValueSchema = z.object({ SecretId: z.string().min(1) });

export async function startSecretsManagerServer(
  options: SecretsManagerEmulatorOptions,
): Promise<SecretsManagerEmulator> {
  const calls = new Map<string, number>();
  const { server, url } = await startHttpServer(
    options,
    async (req, res) => {
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        throw awsError(400, 'InvalidRequestException', 'only GetSecretValue is emulated');
      }
      const body = await readBody(req, 64 * 1024, () =>
        awsError(413, 'InvalidRequestException', 'request too large'),
      );
      const input = getSecretValueSchema.safeParse(parseJson(body));
      if (!input.success) throw awsError(400, 'InvalidParameterException', 'SecretId is required');
      const { SecretId } = input.data;
      calls.set(SecretId, (calls.get(SecretId) ?? 0) + 1);
      const value = options.secrets[SecretId];
      if (value === undefined) {
        throw awsError(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      }
      sendJson(
        res,
        200,
        {
          ARN: SecretId,
          Name: SecretId.split(':').at(-1),
          SecretString: value,
          VersionId: '00000000-0000-0000-0000-000000000001',
          VersionStages: ['AWSCURRENT'],
          CreatedDate: Date.now() / 1000,
        },
        contentType,
      );
    },
    () => awsError(500, 'InternalServiceError', 'the emulator failed'),
  );
  return { url, calls, close: () => stopHttpServer(server) };
}
