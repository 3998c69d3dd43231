import type { IncomingMessage, ServerResponse } from 'node:http';
import { serve } from './http.ts';

// Secrets Manager's GetSecretValue on its wire protocol (AWS JSON 1.1), for the Lambda entry's tests: the
// project's emulators have no Secrets Manager, and the entry must be driven through the real SDK client and
// Powertools Parameters. Counts calls, so caching shows.

export interface SecretsManagerStub {
  url: string;
  /** GetSecretValue calls per secret id. */
  calls: Map<string, number>;
  close(): Promise<void>;
}

export async function startSecretsManager(secrets: Record<string, string>): Promise<SecretsManagerStub> {
  const calls = new Map<string, number>();
  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
  };
  const server = await serve(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
      answer(res, 400, { __type: 'InvalidRequestException', message: 'only GetSecretValue is served here' });
      return;
    }
    const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId: string };
    calls.set(SecretId, (calls.get(SecretId) ?? 0) + 1);
    const value = secrets[SecretId];
    if (value === undefined) {
      answer(res, 400, {
        __type: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
      });
      return;
    }
    answer(res, 200, {
      ARN: SecretId,
      Name: SecretId.split(':').at(-1),
      SecretString: value,
      VersionId: '00000000-0000-0000-0000-000000000001',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: Date.now() / 1000,
    });
  });
  return { url: server.url, calls, close: server.close };
}
