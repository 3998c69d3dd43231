import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  imageResponseSchema,
  loadConfig,
  resultRecordSchema,
  resultsListResponseSchema,
  routeResponseSchema,
  uploadResponseSchema,
  type Config,
} from '@mc-vision/core';
import { gzipSync } from 'node:zlib';
import { startApiServer, type ApiServer } from '../src/index.ts';
import { apiClient, expectError, serve, type ApiClient } from './support/http.ts';
import { baldEagle, pelican, pelicanAs, pixelBombPng, truncatedJpeg } from './support/images.ts';
import { startLocalAws, type LocalAws } from './support/local-aws.ts';
import { startLocalPipeline, type LocalPipeline } from './support/pipeline.ts';
import { startLocalProviders, type LocalProviders } from './support/providers.ts';

// Every route but the pipelines, through the plain Node server, against dynalite, s3rver, the real
// classifier and the Bedrock / Azure OpenAI emulators, with the real SDK clients. Step Functions is there
// because a caller's requestId must not name a pipeline execution.

const apiKey = 'test-key-0123456789abcdef';
const allowedOrigin = 'http://ui.example.test';
const maxImageBytes = 1_000_000;

let aws: LocalAws;
let providers: LocalProviders;
let pipeline: LocalPipeline;
let server: ApiServer;
let api: ApiClient;
let config: Config;
let s3: S3Client;

beforeAll(async () => {
  [aws, providers] = await Promise.all([startLocalAws(), startLocalProviders()]);
  const base = loadConfig({ ...aws.env, ...providers.env, DATA_DIR: aws.dataDir });
  pipeline = await startLocalPipeline(base, aws.clients(base).dynamodb);
  config = loadConfig({
    ...aws.env,
    ...providers.env,
    API_KEY: apiKey,
    DATA_DIR: aws.dataDir,
    CORS_ORIGINS: allowedOrigin,
    MAX_IMAGE_BYTES: String(maxImageBytes),
    SFN_ENDPOINT: pipeline.stepFunctions.url,
  });
  ({ s3 } = aws.clients(config));
  server = await startApiServer({ config, port: 0, logger: new Logger({ logLevel: 'SILENT' }) });
  api = apiClient(server.url, apiKey);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await pipeline?.close();
  await Promise.all([aws?.close(), providers?.close()]);
});

afterEach(() => providers.clearFaults());

const jpeg = { headers: { 'content-type': 'image/jpeg' } };

async function upload(bytes: Uint8Array = pelican, contentType = 'image/jpeg'): Promise<string> {
  const response = await api.post('/v1/images', bytes, { headers: { 'content-type': contentType } });
  expect(response.status).toBe(201);
  return imageResponseSchema.parse(response.body).key;
}

async function putObject(key: string, body: Uint8Array | string, contentType: string) {
  await s3.send(
    new PutObjectCommand({ Bucket: config.IMAGES_BUCKET, Key: key, Body: body, ContentType: contentType }),
  );
}

describe('POST /v1/images', () => {
  it('stores a JPEG under its SHA-256 with its content type and reports its size', async () => {
    const response = await api.post('/v1/images', pelican, jpeg);
    expect(response.status).toBe(201);
    const image = imageResponseSchema.parse(response.body);
    expect(image).toMatchObject({
      width: 500,
      height: 375,
      contentType: 'image/jpeg',
      bytes: pelican.length,
    });
    expect(image.key).toBe(`images/${image.sha256}.jpg`);

    const stored = await s3.send(new GetObjectCommand({ Bucket: config.IMAGES_BUCKET, Key: image.key }));
    expect(stored.ContentType).toBe('image/jpeg');
    expect(Buffer.from(await stored.Body!.transformToByteArray()).equals(pelican)).toBe(true);
  });

  it('is idempotent: the same bytes land on the same key, other bytes on another', async () => {
    const first = await upload(baldEagle);
    expect(await upload(baldEagle)).toBe(first);
    expect(await upload(pelican)).not.toBe(first);
  });

  it('accepts PNG and WebP, keyed with their extension', async () => {
    for (const format of ['png', 'webp'] as const) {
      const bytes = await pelicanAs(format);
      const response = await api.post('/v1/images', bytes, {
        headers: { 'content-type': `image/${format}` },
      });
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ contentType: `image/${format}`, width: 500, height: 375 });
      expect(response.body.key).toMatch(new RegExp(`^images/[0-9a-f]{64}\\.${format}$`));
    }
  });

  it('refuses bytes that are not an image (415), whatever the content-type says', async () => {
    const text = Buffer.from('this is not a photo, just text pretending to be one');
    expect(expectError(await api.post('/v1/images', text, jpeg), 415, 'unsupported_media_type')).toMatch(
      /not a JPEG, PNG or WebP/,
    );
  });

  it('refuses a content-type that disagrees with the bytes (415)', async () => {
    const response = await api.post('/v1/images', pelican, { headers: { 'content-type': 'image/png' } });
    expect(expectError(response, 415, 'unsupported_media_type')).toBe(
      'content-type says image/png but the body is image/jpeg',
    );
  });

  it('refuses other content types before reading the body (415), including curl’s form default', async () => {
    for (const type of ['image/gif', 'text/plain', 'application/x-www-form-urlencoded', 'application/json']) {
      const response = await api.post('/v1/images', pelican, { headers: { 'content-type': type } });
      expect(expectError(response, 415, 'unsupported_media_type')).toMatch(
        /image\/jpeg, image\/png, image\/webp/,
      );
    }
  });

  it('refuses a compressed body (415): the byte limit holds for what is stored', async () => {
    const response = await api.post('/v1/images', gzipSync(pelican), {
      headers: { 'content-type': 'image/jpeg', 'content-encoding': 'gzip' },
    });
    expectError(response, 415, 'unsupported_media_type');
  });

  it('needs a body (400)', async () => {
    expectError(await api.post('/v1/images', undefined, jpeg), 400, 'invalid_request');
  });

  it('refuses more than MAX_IMAGE_BYTES (413)', async () => {
    const big = Buffer.concat([pelican, Buffer.alloc(maxImageBytes)]);
    expect(expectError(await api.post('/v1/images', big, jpeg), 413, 'payload_too_large')).toMatch(
      String(maxImageBytes),
    );
  });

  it('refuses a decompression bomb by its pixel count (413) without decoding it', async () => {
    const bomb = pixelBombPng(7000, 7000);
    expect(bomb.length).toBeLessThan(100_000);
    const response = await api.post('/v1/images', bomb, { headers: { 'content-type': 'image/png' } });
    expect(expectError(response, 413, 'payload_too_large')).toMatch(/more than 40000000 pixels/);
  });

  it('refuses a truncated JPEG (422)', async () => {
    expect(expectError(await api.post('/v1/images', truncatedJpeg, jpeg), 422, 'undecodable_image')).toMatch(
      /cannot be decoded/,
    );
  });
});

describe('POST /v1/uploads', () => {
  it('presigns a PUT that signs content type and length, expires in UPLOAD_URL_TTL_SECONDS and has no checksum', async () => {
    const before = Date.now();
    const response = await api.post('/v1/uploads', {
      contentType: 'image/jpeg',
      contentLength: pelican.length,
    });
    expect(response.status).toBe(200);
    const upload = uploadResponseSchema.parse(response.body);
    expect(upload.key).toMatch(/^images\/[0-9a-f-]{36}\.jpg$/);
    expect(upload.headers).toEqual({
      'content-type': 'image/jpeg',
      'content-length': String(pelican.length),
    });

    const url = new URL(upload.url);
    expect(url.pathname).toBe(`/${config.IMAGES_BUCKET}/${upload.key}`);
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual([
      'content-length',
      'content-type',
      'host',
    ]);
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(config.UPLOAD_URL_TTL_SECONDS));
    expect(config.UPLOAD_URL_TTL_SECONDS).toBeLessThanOrEqual(300);
    for (const name of url.searchParams.keys()) {
      expect(name.toLowerCase()).not.toMatch(/^x-amz-(checksum-|sdk-checksum-algorithm)/);
    }
    const expiresAt = Date.parse(upload.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + config.UPLOAD_URL_TTL_SECONDS * 1000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + config.UPLOAD_URL_TTL_SECONDS * 1000);

    // The PUT works with exactly those headers, and the object is then usable by the API.
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: pelican });
    expect(put.status).toBe(200);
    const head = await s3.send(new HeadObjectCommand({ Bucket: config.IMAGES_BUCKET, Key: upload.key }));
    expect(head).toMatchObject({ ContentType: 'image/jpeg', ContentLength: pelican.length });
    const analysis = await api.post('/v1/analyses', { key: upload.key, providers: ['sagemaker'] });
    expect(analysis.status).toBe(200);
    expect(analysis.body.results.sagemaker.labels[0].label).toBe('pelican');
  });

  it('uses the extension of the declared type', async () => {
    const response = await api.post('/v1/uploads', { contentType: 'image/webp', contentLength: 1000 });
    expect(response.body.key).toMatch(/\.webp$/);
  });

  it('refuses a length over MAX_IMAGE_BYTES (413)', async () => {
    const response = await api.post('/v1/uploads', {
      contentType: 'image/png',
      contentLength: maxImageBytes + 1,
    });
    expectError(response, 413, 'payload_too_large');
  });

  it('names the invalid field (400)', async () => {
    const gif = await api.post('/v1/uploads', { contentType: 'image/gif', contentLength: 10 });
    expect(expectError(gif, 400, 'invalid_request')).toMatch(/^body\.contentType: /);
    const missing = await api.post('/v1/uploads', { contentType: 'image/png' });
    expect(expectError(missing, 400, 'invalid_request')).toMatch(/^body\.contentLength: /);
  });

  it('refuses malformed JSON (400), a missing body (400) and a non-JSON type (415)', async () => {
    const json = { 'content-type': 'application/json' };
    expect(
      expectError(
        await api.post('/v1/uploads', '{"contentType": ', { headers: json }),
        400,
        'invalid_request',
      ),
    ).toBe('request body is not valid JSON');
    expectError(await api.post('/v1/uploads', undefined, { headers: json }), 400, 'invalid_request');
    const text = await api.post('/v1/uploads', 'contentType=image/png', {
      headers: { 'content-type': 'text/plain' },
    });
    expectError(text, 415, 'unsupported_media_type');
  });

  it('refuses a JSON body over 16 KB (413)', async () => {
    const response = await api.post('/v1/uploads', {
      contentType: 'image/png',
      contentLength: 1,
      pad: 'x'.repeat(20_000),
    });
    expectError(response, 413, 'payload_too_large');
  });
});

describe('POST /v1/analyses', () => {
  let key: string;
  beforeAll(async () => {
    key = await upload(pelican);
  });

  it('runs all three providers by default and stores the record', async () => {
    const response = await api.post('/v1/analyses', { key });
    expect(response.status).toBe(200);
    const record = resultRecordSchema.parse(response.body);
    expect(record).toMatchObject({ imageKey: key, source: 'analysis', status: 'complete' });
    expect(record.errors).toBeUndefined();
    expect(record.results.sagemaker?.labels[0]?.label).toBe('pelican');
    expect(record.results.bedrock).toMatchObject({ emulated: true, model: config.BEDROCK_MODEL_ID });
    expect(record.results.azure).toMatchObject({ emulated: true });
    expect(record.results.bedrock?.caption).toMatch(/pelican/i);

    const stored = await api.get(`/v1/results/${record.requestId}`);
    expect(stored.status).toBe(200);
    expect(stored.body).toEqual(response.body);
  });

  it('runs only the providers asked for, under the requestId given', async () => {
    const response = await api.post('/v1/analyses', {
      key,
      providers: ['sagemaker'],
      requestId: 'only-sagemaker-1',
    });
    expect(response.status).toBe(200);
    expect(response.body.requestId).toBe('only-sagemaker-1');
    expect(Object.keys(response.body.results)).toEqual(['sagemaker']);
  });

  it('answers a retry of the same request with the stored record, without calling a provider again', async () => {
    const body = { key, providers: ['sagemaker', 'bedrock'], requestId: 'retried-once' };
    const first = await api.post('/v1/analyses', body);
    expect(first.status).toBe(200);
    await providers.fault('bedrock', { status: 500, times: 1 });
    const retry = await api.post('/v1/analyses', { ...body, providers: ['bedrock', 'sagemaker'] });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    // The queued fault is still there: the retry called no provider.
    expect((await api.post('/v1/analyses', { key, providers: ['bedrock'] })).status).toBe(502);
  });

  it('answers a retry of a request whose providers all failed as it did the first time (502)', async () => {
    await providers.fault('bedrock', { status: 500, times: 1 });
    const body = { key, providers: ['bedrock'], requestId: 'failed-once' };
    expectError(await api.post('/v1/analyses', body), 502, 'provider_failed');
    expect(expectError(await api.post('/v1/analyses', body), 502, 'provider_failed')).toMatch(
      /stored as requestId failed-once/,
    );
  });

  it('refuses a requestId that already names another request (409), without calling a provider', async () => {
    const body = { key, providers: ['sagemaker'], requestId: 'used-once' };
    expect((await api.post('/v1/analyses', body)).status).toBe(200);
    await providers.fault('bedrock', { status: 500, times: 1 });
    const again = await api.post('/v1/analyses', { ...body, providers: ['bedrock'] });
    expect(expectError(again, 409, 'conflict')).toMatch(/used-once already names another request/);
    // The queued fault is still there: the conflict was found before any provider call.
    const bedrock = await api.post('/v1/analyses', { key, providers: ['bedrock'] });
    expect(bedrock.status).toBe(502);
  });

  it('answers 404 for an image that is not stored', async () => {
    const response = await api.post('/v1/analyses', { key: 'images/never-uploaded.jpg' });
    expect(expectError(response, 404, 'not_found')).toMatch(/images\/never-uploaded\.jpg/);
  });

  it('names the invalid field (400)', async () => {
    const traversal = await api.post('/v1/analyses', { key: '../secrets.txt' });
    expect(expectError(traversal, 400, 'invalid_request')).toBe('body.key: must be a key under images/');
    const repeated = await api.post('/v1/analyses', { key, providers: ['azure', 'azure'] });
    expect(expectError(repeated, 400, 'invalid_request')).toMatch(/^body\.providers: .*must not repeat/);
    const unknown = await api.post('/v1/analyses', { key, providers: ['openai'] });
    expect(expectError(unknown, 400, 'invalid_request')).toMatch(/^body\.providers\.0: /);
  });

  it('refuses a stored object that is not an image (415) or is truncated (422)', async () => {
    await putObject('images/notes.jpg', 'plain text, not a photo', 'image/jpeg');
    expectError(await api.post('/v1/analyses', { key: 'images/notes.jpg' }), 415, 'unsupported_media_type');
    await putObject('images/truncated.jpg', truncatedJpeg, 'image/jpeg');
    expectError(await api.post('/v1/analyses', { key: 'images/truncated.jpg' }), 422, 'undecodable_image');
  });

  it('keeps the others when one provider fails: 200, status partial, the error recorded', async () => {
    await providers.fault('bedrock', { status: 429, retryAfterSeconds: 3 });
    const response = await api.post('/v1/analyses', { key });
    expect(response.status).toBe(200);
    const record = resultRecordSchema.parse(response.body);
    expect(record.status).toBe('partial');
    expect(Object.keys(record.results).sort()).toEqual(['azure', 'sagemaker']);
    expect(record.errors?.bedrock?.code).toBe('ProviderThrottled');
    expect((await api.get(`/v1/results/${record.requestId}`)).body.status).toBe('partial');
  });

  it('stores a failed record and answers 429 with Retry-After when every provider is throttled', async () => {
    await providers.fault('bedrock', { status: 429, retryAfterSeconds: 3 });
    await providers.fault('azure', { status: 429, retryAfterSeconds: 7 });
    const response = await api.post('/v1/analyses', {
      key,
      providers: ['bedrock', 'azure'],
      requestId: 'all-throttled',
    });
    expect(expectError(response, 429, 'rate_limited')).toMatch(/stored as requestId all-throttled/);
    // The longest wait any provider asked for (Bedrock 3 s, Azure 7 s).
    expect(response.headers.get('retry-after')).toBe('7');
    const stored = await api.get('/v1/results/all-throttled');
    expect(stored.body).toMatchObject({ status: 'failed', results: {} });
    expect(Object.keys(stored.body.errors).sort()).toEqual(['azure', 'bedrock']);
  });

  it('stores a failed record and answers 502 when every provider fails', async () => {
    await providers.fault('bedrock', { status: 500 });
    await providers.fault('azure', { status: 500 });
    const response = await api.post('/v1/analyses', {
      key,
      providers: ['bedrock', 'azure'],
      requestId: 'all-failed',
    });
    expect(expectError(response, 502, 'provider_failed')).toMatch(
      /every provider failed \(bedrock: \w+, azure: \w+\)/,
    );
    expect((await api.get('/v1/results/all-failed')).body.status).toBe('failed');
  });
});

describe("the API's deadline: it answers before its function times out, whatever the providers do", () => {
  // API_TIMEOUT_SECONDS=4 leaves a 2 s deadline (half of it; in the cloud, 29 s leaves 25 s). The LLMs'
  // endpoints take the connection and never answer, while every attempt may take 60 s, three times: without
  // the deadline the request would hang for minutes.
  let slow: ApiClient;
  let closeSlow: () => Promise<void>;
  const held: { closed: boolean }[] = [];

  beforeAll(async () => {
    const silent = await serve((req, res) => {
      const call = { closed: false };
      held.push(call);
      res.once('close', () => (call.closed = true));
      req.resume();
    });
    const slowServer = await startApiServer({
      config: loadConfig({
        ...aws.env,
        ...providers.env,
        API_KEY: apiKey,
        DATA_DIR: aws.dataDir,
        SFN_ENDPOINT: pipeline.stepFunctions.url,
        BEDROCK_RUNTIME_ENDPOINT: silent.url,
        AZURE_OPENAI_ENDPOINT: silent.url,
        PROVIDER_TIMEOUT_MS: '60000',
        PROVIDER_MAX_ATTEMPTS: '3',
        API_TIMEOUT_SECONDS: '4',
      }),
      port: 0,
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    slow = apiClient(slowServer.url, apiKey);
    closeSlow = async () => {
      await slowServer.close();
      await silent.close();
    };
  });
  afterAll(() => closeSlow?.());

  // Without the deadline these requests would hang for minutes and the tests time out; with it the API answers,
  // and each late provider is recorded as having missed the deadline.
  it('keeps what answered in time: 200 partial, the late provider recorded as missing the deadline', async () => {
    const key = await upload(pelican);
    const response = await slow.post('/v1/analyses', { key, providers: ['sagemaker', 'bedrock'] });
    expect(response.status).toBe(200);
    const record = resultRecordSchema.parse(response.body);
    expect(record.status).toBe('partial');
    expect(record.results.sagemaker?.labels[0]?.label).toBe('pelican');
    expect(record.errors?.bedrock).toEqual({
      code: 'ProviderUnavailable',
      message: "bedrock: no answer within 2 s (the API's deadline)",
    });
    expect((await api.get(`/v1/results/${record.requestId}`)).body).toEqual(response.body);
  });

  it('answers 502 provider_failed when nothing answered in time, and stores the failed record', async () => {
    const key = await upload(pelican);
    const response = await slow.post('/v1/analyses', {
      key,
      providers: ['bedrock', 'azure'],
      requestId: 'past-deadline-1',
    });
    expect(expectError(response, 502, 'provider_failed')).toBe(
      'every provider failed (bedrock: ProviderUnavailable, azure: ProviderUnavailable); the failed result is stored as requestId past-deadline-1',
    );
    const stored = resultRecordSchema.parse((await api.get('/v1/results/past-deadline-1')).body);
    expect(stored).toMatchObject({ status: 'failed', results: {} });
    expect(stored.errors?.azure?.message).toBe("azure: no answer within 2 s (the API's deadline)");

    const routed = await slow.post('/v1/route', { key, policy: 'quality' });
    expect(expectError(routed, 502, 'provider_failed')).toMatch(
      /^bedrock: no answer within 2 s \(the API's deadline\); the failed result is stored as requestId /,
    );
  });

  it('stops the calls it gave up on instead of leaving them running', async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    // One attempt each: Bedrock for the analysis, Bedrock and Azure for the second, Bedrock for the route.
    expect(held).toHaveLength(4);
    expect(held.filter((call) => !call.closed)).toEqual([]);
  });
});

describe('POST /v1/route', () => {
  let key: string;
  beforeAll(async () => {
    key = await upload(baldEagle);
  });

  it('sends the cost policy to Azure OpenAI (ROUTE_COST_PROVIDER)', async () => {
    const response = await api.post('/v1/route', { key, policy: 'cost' });
    expect(response.status).toBe(200);
    const routed = routeResponseSchema.parse(response.body);
    expect(routed.chosen).toBe('azure');
    expect(routed.reason).toMatch(/cost.*Azure OpenAI gpt-4o-mini.*ROUTE_COST_PROVIDER/);
    expect(Object.keys(routed.result.results)).toEqual(['azure']);
    expect((await api.get(`/v1/results/${routed.result.requestId}`)).status).toBe(200);
  });

  it('sends the quality policy to Bedrock Claude (ROUTE_QUALITY_PROVIDER)', async () => {
    const response = await api.post('/v1/route', { key, policy: 'quality' });
    expect(response.body.chosen).toBe('bedrock');
    expect(response.body.reason).toMatch(/quality.*Bedrock anthropic\.claude.*ROUTE_QUALITY_PROVIDER/);
    expect(Object.keys(response.body.result.results)).toEqual(['bedrock']);
  });

  it('answers 429 with Retry-After when the chosen provider is throttled', async () => {
    await providers.fault('azure', { status: 429, retryAfterSeconds: 4 });
    const response = await api.post('/v1/route', { key, policy: 'cost' });
    expectError(response, 429, 'rate_limited');
    expect(response.headers.get('retry-after')).toBe('4');
  });

  it('names an unknown policy (400) and a missing image (404)', async () => {
    const cheapest = await api.post('/v1/route', { key, policy: 'cheapest' });
    expect(expectError(cheapest, 400, 'invalid_request')).toMatch(/^body\.policy: /);
    expectError(await api.post('/v1/route', { key: 'images/missing.png', policy: 'cost' }), 404, 'not_found');
  });
});

describe('GET /v1/results', () => {
  it('lists records newest first, page by page', async () => {
    const key = await upload(pelican);
    for (let i = 0; i < 3; i++) {
      expect(
        (await api.post('/v1/analyses', { key, providers: ['sagemaker'], requestId: `page-${i}` })).status,
      ).toBe(200);
    }
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const query = new URLSearchParams({ limit: '2', ...(nextToken ? { nextToken } : {}) });
      const response = await api.get(`/v1/results?${query}`);
      expect(response.status).toBe(200);
      const page = resultsListResponseSchema.parse(response.body);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.createdAt + ' ' + item.requestId));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(seen).toEqual([...seen].sort().reverse());
    expect(new Set(seen).size).toBe(seen.length);
    const newest = seen.slice(0, 3).map((s) => s.split(' ')[1]);
    expect(newest).toEqual(['page-2', 'page-1', 'page-0']);
  });

  it('refuses a tampered nextToken and a bad limit (400)', async () => {
    expect(
      expectError(await api.get('/v1/results?nextToken=bm90LWEtdG9rZW4'), 400, 'invalid_request'),
    ).toMatch(/nextToken/);
    expect(expectError(await api.get('/v1/results?limit=0'), 400, 'invalid_request')).toMatch(
      /^query\.limit: /,
    );
    expect(expectError(await api.get('/v1/results?limit=many'), 400, 'invalid_request')).toMatch(
      /^query\.limit: /,
    );
  });

  it('answers 404 for an unknown requestId and 400 for a malformed one', async () => {
    expect(expectError(await api.get('/v1/results/no-such-request'), 404, 'not_found')).toMatch(
      /no-such-request/,
    );
    expect(expectError(await api.get('/v1/results/bad.id'), 400, 'invalid_request')).toMatch(
      /^path\.requestId: /,
    );
  });
});
