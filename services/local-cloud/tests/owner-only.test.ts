import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createDynamoDbClient, createS3Client, type Config } from '@mc-vision/core';
import { faultRoute } from '@mc-vision/emulators';
import { request } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { componentUrl, pelican, startTestCloud, type TestCloud } from './support.ts';

// A laptop cloud only its owner can reach: every listener of a real local cloud refuses a request that names
// another host (DNS rebinding) or comes from another web page (a foreign Origin), in its own service's error
// shape; the emulators' fault routes need this run's token; DynamoDB and S3 serve only requests signed with
// this run's credentials, while the platform's own SDK clients (and presigned uploads) keep working.

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with exactly these headers (fetch would not let a test set Host). */
function raw(
  url: string,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname,
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: options.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** What each component answers a refused request with: its status and its own error shape. */
const refusedAs: Record<string, (response: RawResponse) => void> = {
  api: ({ status, body }) => {
    expect(status).toBe(403);
    expect(JSON.parse(body).error).toMatchObject({ code: 'forbidden' });
  },
  dynamodb: ({ status, body }) => {
    expect(status).toBe(403);
    expect(JSON.parse(body).__type).toBe('com.amazon.coral.service#AccessDeniedException');
  },
  s3: ({ status, body }) => {
    expect(status).toBe(403);
    expect(body).toMatch(/<Error><Code>AccessDenied<\/Code><Message>[^<]+<\/Message>/);
  },
  sns: ({ status, body }) => {
    expect(status).toBe(403);
    expect(body).toMatch(/<ErrorResponse .*<Code>AuthorizationError<\/Code>/);
  },
  sagemaker: ({ status, body }) => {
    expect(status).toBe(403);
    expect(JSON.parse(body).error).toMatchObject({ code: 'forbidden' });
  },
  ...Object.fromEntries(
    ['bedrock', 'azure', 'stepfunctions', 'cloudwatch'].map((name) => [
      name,
      ({ status, headers, body }: RawResponse) => {
        expect(status).toBe(403);
        expect(headers['x-amzn-errortype']).toBe('AccessDeniedException');
        expect(JSON.parse(body)).toMatchObject({
          __type: 'AccessDeniedException',
          error: { code: 'AccessDenied' },
        });
      },
    ]),
  ),
};

describe('a local cloud only its owner can reach', () => {
  let local: TestCloud;

  beforeAll(async () => {
    local = await startTestCloud();
  }, 60_000);

  afterAll(async () => {
    await local?.close();
  });

  it('has a refusal check for every component it lists', () => {
    expect(local.cloud.components.map(({ name }) => name).sort()).toEqual(Object.keys(refusedAs).sort());
  });

  it('refuses a request for another host name on every listener, in each service’s own error shape', async () => {
    for (const { name, url } of local.cloud.components) {
      const response = await raw(url, { headers: { host: `evil.example:${new URL(url).port}` } });
      refusedAs[name]!(response);
      expect(response.body).toContain('evil.example');
    }
  });

  it('refuses a request from another web page on every listener', async () => {
    for (const { name, url } of local.cloud.components) {
      const response = await raw(url, {
        headers: { host: new URL(url).host, origin: 'http://evil.example' },
      });
      refusedAs[name]!(response);
      // Not even the listener's own address under another port.
      refusedAs[name]!(
        await raw(url, { headers: { host: new URL(url).host, origin: 'http://127.0.0.1:1' } }),
      );
    }
  });

  it("serves the UI's own requests: its Host, its Origin, under any loopback name", async () => {
    const { port } = new URL(local.cloud.url);
    for (const name of ['127.0.0.1', 'localhost', '[::1]']) {
      const origin = `http://${name}:${port}`;
      const health = await raw(local.cloud.url, {
        path: '/health',
        headers: { host: `${name}:${port}`, origin },
      });
      expect(health.status).toBe(200);
    }
    const upload = await raw(local.cloud.url, {
      method: 'POST',
      path: '/v1/images',
      headers: {
        host: `127.0.0.1:${port}`,
        origin: local.cloud.url,
        'x-api-key': local.cloud.apiKey,
        'content-type': 'image/jpeg',
      },
      body: pelican,
    });
    expect(upload.status).toBe(201);
  });

  it("needs this run's token on the emulators' fault routes", async () => {
    for (const name of ['bedrock', 'azure']) {
      const url = `${componentUrl(local.cloud, name)}${faultRoute}`;
      const fault = JSON.stringify({ status: 503 });
      const post = (headers: Record<string, string>) =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: fault,
        });
      const without = await post({});
      expect(without.status).toBe(401);
      expect(await without.json()).toEqual({
        error: "the admin routes need the local cloud's token: Authorization: Bearer <token>",
      });
      expect((await post({ authorization: 'Bearer not-the-token' })).status).toBe(401);
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { method: 'DELETE' })).status).toBe(401);

      const withToken = await post({ authorization: `Bearer ${local.cloud.adminToken}` });
      expect(withToken.status).toBe(201);
      const cleared = await fetch(url, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${local.cloud.adminToken}` },
      });
      expect(await cleared.json()).toEqual({ faults: [] });
    }
    expect((await readFile(join(local.dataDir, 'admin-token'), 'utf8')).trim()).toBe(local.cloud.adminToken);
  });

  it('refuses unsigned and wrongly signed DynamoDB and S3 requests; the SDK clients keep working', async () => {
    const { config } = local.cloud;
    const dynamodb = componentUrl(local.cloud, 'dynamodb');
    const s3 = componentUrl(local.cloud, 's3');

    // Anonymous: no signature at all.
    const unsignedDynamo = await raw(dynamodb, {
      method: 'POST',
      headers: {
        host: new URL(dynamodb).host,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.Scan',
      },
      body: JSON.stringify({ TableName: config.RESULTS_TABLE }),
    });
    expect(unsignedDynamo.status).toBe(400);
    expect(JSON.parse(unsignedDynamo.body).__type).toBe(
      'com.amazon.coral.service#MissingAuthenticationTokenException',
    );
    const unsignedS3 = await raw(s3, {
      path: `/${config.IMAGES_BUCKET}`,
      headers: { host: new URL(s3).host },
    });
    expect(unsignedS3.status).toBe(403);
    expect(unsignedS3.body).toContain('<Code>AccessDenied</Code>');

    // Signed, but not with this run's secret (the old fixed emulator credentials, say).
    const wrong: Config = { ...config, EMULATOR_SECRET_ACCESS_KEY: 'S3RVER' };
    const strangerKey: Config = { ...config, EMULATOR_ACCESS_KEY_ID: 'someone-else' };
    const made: { destroy(): void }[] = [];
    const dynamoWith = (c: Config) =>
      made[made.push(createDynamoDbClient(c)) - 1] as ReturnType<typeof createDynamoDbClient>;
    const s3With = (c: Config) => made[made.push(createS3Client(c)) - 1] as ReturnType<typeof createS3Client>;
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => 'served',
        (error: Error) => error.name,
      );
    expect(await failure(dynamoWith(wrong).send(new ListTablesCommand({})))).toBe(
      'InvalidSignatureException',
    );
    expect(await failure(dynamoWith(strangerKey).send(new ListTablesCommand({})))).toBe(
      'UnrecognizedClientException',
    );
    const listImages = new ListObjectsV2Command({ Bucket: config.IMAGES_BUCKET });
    expect(await failure(s3With(wrong).send(listImages))).toBe('SignatureDoesNotMatch');
    expect(await failure(s3With(strangerKey).send(listImages))).toBe('InvalidAccessKeyId');

    // The platform's own clients, with this run's credentials.
    const tables = await dynamoWith(config).send(new ListTablesCommand({}));
    expect(tables.TableNames).toContain(config.RESULTS_TABLE);
    expect((await s3With(config).send(listImages)).$metadata.httpStatusCode).toBe(200);
    made.forEach((client) => client.destroy());
  });

  it('takes an upload through a presigned URL, and refuses the URL once it is tampered with', async () => {
    const presigned = await local.api.post('/v1/uploads', {
      contentType: 'image/jpeg',
      contentLength: pelican.length,
    });
    expect(presigned.status).toBe(200);
    const put = (url: string) =>
      fetch(url, { method: 'PUT', headers: presigned.body.headers, body: pelican }).then((r) => r.status);
    const tampered = new URL(presigned.body.url);
    tampered.pathname = tampered.pathname.replace(/\.jpg$/, '-other.jpg');
    expect(await put(tampered.href)).toBe(403);
    expect(await put(presigned.body.url)).toBe(200);
    const analysis = await local.api.post('/v1/analyses', {
      key: presigned.body.key,
      providers: ['sagemaker'],
    });
    expect(analysis.status).toBe(200);
  });
});
