import { z } from 'zod';
import { awsJsonActionFor, awsJsonProtocol } from '../aws-json/index.ts';
import { stopHttpServer, type EmulatorServer, type ListenOptions } from '../http.ts';

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

interface Secrets {
  values: Record<string, string>;
  calls: Map<string, number>;
}

const protocol = awsJsonProtocol({ targetPrefix: 'secretsmanager', version: '1.1', maxBodyBytes: 64 * 1024 });
const action = awsJsonActionFor<Secrets>();

const actions = {
  GetSecretValue: action(z.looseObject({ SecretId: z.string().min(1) }), async (secrets, { SecretId }) => {
    secrets.calls.set(SecretId, (secrets.calls.get(SecretId) ?? 0) + 1);
    const value = secrets.values[SecretId];
    if (value === undefined) {
      throw protocol.error('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    return {
      ARN: SecretId,
      Name: SecretId.split(':').at(-1),
      SecretString: value,
      VersionId: '00000000-0000-0000-0000-000000000001',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: Date.now() / 1000,
    };
  }),
};

export async function startSecretsManagerServer(
  options: SecretsManagerEmulatorOptions,
): Promise<SecretsManagerEmulator> {
  const secrets: Secrets = { values: options.secrets, calls: new Map() };
  const { server, url } = await protocol.listen(options, actions, secrets);
  return { url, calls: secrets.calls, close: () => stopHttpServer(server) };
}
