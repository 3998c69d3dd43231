import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createDynamoDbClient, createS3Client, loadConfig } from '@mc-vision/core';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from '../src/guard.ts';
import { checkSignature, type SignedRequest } from '../src/sigv4.ts';

// The signature check on requests the real SDK clients sign: what the local DynamoDB and S3 let through.
// A server records each request as it arrives (and answers 500, which the clients' single attempt gives up on).

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'the-secret-of-this-run' };

let server: Server;
const received: SignedRequest[] = [];
let config: ReturnType<typeof loadConfig>;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await readBody(req, 1 << 20);
    received.push({ method: req.method!, url: req.url!, headers: req.headers, body: body! });
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  config = loadConfig({
    DYNAMODB_ENDPOINT: endpoint,
    S3_ENDPOINT: endpoint,
    EMULATOR_ACCESS_KEY_ID: credentials.accessKeyId,
    EMULATOR_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  });
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The request one SDK call sends. */
async function sent(call: () => Promise<unknown>): Promise<SignedRequest> {
  received.length = 0;
  await call().catch(() => undefined);
  return received[0]!;
}

const dynamodb = (request: SignedRequest, now?: Date) =>
  checkSignature(request, { service: 'dynamodb', credentials, ...(now ? { now } : {}) });

describe('checkSignature', () => {
  it('accepts what the SDK signs with the credentials, body and all', async () => {
    const client = createDynamoDbClient({ ...config, PROVIDER_MAX_ATTEMPTS: 1 });
    const put = await sent(() =>
      client.send(new PutItemCommand({ TableName: 't', Item: { requestId: { S: 'req-1' } } }), {}),
    );
    client.destroy();
    expect(await dynamodb(put)).toBeUndefined();
    // The body is signed: another item is another request.
    const other = Buffer.from(put.body!.toString().replace('req-1', 'req-2'));
    expect(await dynamodb({ ...put, body: other })).toBe('mismatch');
    // So is every signed header.
    expect(
      await dynamodb({ ...put, headers: { ...put.headers, 'x-amz-target': 'DynamoDB_20120810.DeleteItem' } }),
    ).toBe('mismatch');
    // Signed for another service, or with another key: refused before any signing.
    expect(await checkSignature(put, { service: 's3', credentials })).toBe('malformed');
    expect(await dynamodb({ ...put, headers: { ...put.headers, authorization: undefined } })).toBe('missing');
    expect(
      await checkSignature(put, {
        service: 'dynamodb',
        credentials: { ...credentials, accessKeyId: 'other' },
      }),
    ).toBe('unknownKey');
    expect(
      await checkSignature(put, {
        service: 'dynamodb',
        credentials: { ...credentials, secretAccessKey: 'x' },
      }),
    ).toBe('mismatch');
  });

  it('refuses a signature older or newer than 15 minutes', async () => {
    const client = createDynamoDbClient(config);
    const list = await sent(() => client.send(new ListTablesCommand({})));
    client.destroy();
    const minutes = (n: number) => new Date(Date.now() + n * 60_000);
    expect(await dynamodb(list, minutes(14))).toBeUndefined();
    expect(await dynamodb(list, minutes(16))).toBe('expired');
    expect(await dynamodb(list, minutes(-16))).toBe('expired');
  });

  it('checks S3 requests by their signed payload hash, without reading the body', async () => {
    const client = createS3Client(config);
    const put = await sent(() =>
      client.send(new PutObjectCommand({ Bucket: 'b', Key: 'images/a b(1).jpg', Body: 'bytes' })),
    );
    client.destroy();
    const s3 = (request: SignedRequest) => checkSignature(request, { service: 's3', credentials });
    expect(await s3({ ...put, body: undefined })).toBeUndefined();
    expect(await s3({ ...put, url: put.url.replace('images/', 'other/') })).toBe('mismatch');
  });
});
