import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

// Secrets Manager's GetSecretValue on its wire protocol (AWS JSON 1.1): the project's emulators have no
// Secrets Manager, and the Lambda entry reads its secrets through the real SDK client and Powertools.

export interface SecretsManagerStub {
  url: string;
  /** GetSecretValue calls per secret id. */
  calls: Map<string, number>;
  close(): Promise<void>;
}

export async function startSecretsManager(secrets: Record<string, string>): Promise<SecretsManagerStub> {
  const calls = new Map<string, number>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const answer = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
    const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId: string };
    calls.set(SecretId, (calls.get(SecretId) ?? 0) + 1);
    const value = secrets[SecretId];
    if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue' || value === undefined) {
      answer(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the secret." });
      return;
    }
    answer(200, { ARN: SecretId, Name: SecretId.split(':').at(-1), SecretString: value, VersionId: 'v1' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
