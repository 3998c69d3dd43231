import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import {
  batchLimits,
  batchPrefixes,
  batchSources,
  buildBatchDefinition,
  createSfnClient,
  loadConfig,
  type Config,
} from '@mc-vision/core';
import type { EmulatorServer } from '@mc-vision/emulators';
import { startStepFunctionsServer } from '@mc-vision/emulators/step-functions';
import { join } from 'node:path';
import sharp from 'sharp';
import { startApiServer, type ApiServer } from '../src/index.ts';
import { apiClient, expectError, type ApiClient } from './support/http.ts';
import { pelican } from './support/images.ts';
import { startLocalAws, type LocalAws } from './support/local-aws.ts';
import { workerFunctionArn } from './support/pipeline.ts';

// The batch routes against the project's Step Functions endpoint running core's two batch state machines (their
// item reader on s3rver), dynalite and s3rver. The children's tasks never answer here: a batch stays RUNNING,
// which is all these routes need (the local cloud's tests run batches to the end).

const apiKey = 'batch-test-key-0123456789';
const maxItems = 5;

let aws: LocalAws;
let stepFunctions: EmulatorServer;
let server: ApiServer;
let api: ApiClient;
let config: Config;
let s3: S3Client;
let sfn: SFNClient;
const keys: string[] = [];

beforeAll(async () => {
  aws = await startLocalAws();
  const base = loadConfig({
    ...aws.env,
    DATA_DIR: aws.dataDir,
    API_KEY: apiKey,
    BATCH_MAX_ITEMS: String(maxItems),
  });
  s3 = aws.clients(base).s3;
  const machine = (arn: string) => arn.split(':').at(-1)!;
  stepFunctions = await startStepFunctionsServer({
    dataDir: join(aws.dataDir, 'stepfunctions'),
    stateMachines: batchSources.map((source) => ({
      name: machine(
        source === 'prefix' ? base.BATCH_PREFIX_STATE_MACHINE_ARN : base.BATCH_KEYS_STATE_MACHINE_ARN,
      ),
      definition: buildBatchDefinition(
        {
          workerFunctionArn,
          resultsTableName: base.RESULTS_TABLE,
          notifyTopicArn: base.NOTIFY_TOPIC_ARN,
          imagesBucket: base.IMAGES_BUCKET,
        },
        { source, ...batchLimits(base) },
      ),
    })),
    taskHandler: () => new Promise(() => {}),
    s3,
  });
  config = { ...base, SFN_ENDPOINT: stepFunctions.url };
  sfn = createSfnClient(config);
  server = await startApiServer({ config, port: 0, logger: new Logger({ logLevel: 'SILENT' }) });
  api = apiClient(server.url, apiKey);
  for (let index = 0; index < 3; index += 1) {
    const bytes = Buffer.concat([pelican, Buffer.from(`copy ${index}`)]);
    const uploaded = await api.post('/v1/images', bytes, { headers: { 'content-type': 'image/jpeg' } });
    keys.push(uploaded.body.key as string);
  }
  // A folder with more images than a batch may hold.
  for (let index = 0; index <= maxItems; index += 1) {
    await s3.send(
      new PutObjectCommand({ Bucket: config.IMAGES_BUCKET, Key: `images/many/${index}.jpg`, Body: pelican }),
    );
  }
}, 60_000);

afterAll(async () => {
  sfn?.destroy();
  await server?.close();
  await stepFunctions?.close();
  await aws?.close();
});

async function executions(): Promise<string[]> {
  const pages = await Promise.all(
    [config.BATCH_PREFIX_STATE_MACHINE_ARN, config.BATCH_KEYS_STATE_MACHINE_ARN].map((stateMachineArn) =>
      sfn.send(new ListExecutionsCommand({ stateMachineArn })),
    ),
  );
  return pages.flatMap((page) => page.executions!.map((execution) => execution.name!)).sort();
}

async function keyLists(): Promise<string[]> {
  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: config.IMAGES_BUCKET, Prefix: batchPrefixes.manifests }),
  );
  return (listed.Contents ?? []).map((object) => object.Key!);
}

describe('POST /v1/batches with bad input', () => {
  const tooMany = Array.from({ length: maxItems + 1 }, (_, index) => `images/${index}.jpg`);
  const cases: [string, unknown, RegExp][] = [
    ['an empty list', { keys: [] }, /body\.keys: must list at least one key/],
    ['more keys than a batch holds', { keys: tooMany }, /a batch holds at most 5 images, not 6/],
    [
      'a key outside images/',
      { keys: ['secrets/passwords.txt'] },
      /body\.keys\.0: must be a key under images\//,
    ],
    [
      'the same key twice',
      { keys: ['images/a.jpg', 'images/b.jpg', 'images/a.jpg'] },
      /duplicate key images\/a\.jpg/,
    ],
    [
      'a prefix outside images/',
      { prefix: 'batches/' },
      /body\.prefix: must be images\/ or a folder under it/,
    ],
    ['a prefix that is not a folder', { prefix: 'images/many' }, /body\.prefix/],
    [
      'a prefix with nothing under it',
      { prefix: 'images/empty/' },
      /there are no images under images\/empty\//,
    ],
    [
      'a prefix with more images than a batch holds',
      { prefix: 'images/many/' },
      /at most 5 images, not more than 5/,
    ],
    [
      'both keys and a prefix',
      { keys: ['images/a.jpg'], prefix: 'images/' },
      /body: give either keys .* or prefix/,
    ],
    ['neither keys nor a prefix', { requestId: 'nothing' }, /body: give either keys/],
    ['a field it does not know', { keys: ['images/a.jpg'], callback: 'http://x' }, /callback/],
    ['a requestId with a space', { keys: ['images/a.jpg'], requestId: 'my batch' }, /body\.requestId/],
    [
      'a requestId too long for its items',
      { keys: ['images/a.jpg'], requestId: 'b'.repeat(60) },
      /59 characters/,
    ],
    ['an unknown provider', { keys: ['images/a.jpg'], providers: ['openai'] }, /body\.providers/],
    ['a provider twice', { keys: ['images/a.jpg'], providers: ['bedrock', 'bedrock'] }, /must not repeat/],
  ];

  it.each(cases)('refuses %s with a 400 in the error form', async (_what, body, message) => {
    expect(expectError(await api.post('/v1/batches', body), 400, 'invalid_request')).toMatch(message);
  });

  it('refuses a body that is not JSON', async () => {
    expectError(
      await api.post('/v1/batches', 'keys=a', { headers: { 'content-type': 'text/plain' } }),
      415,
      'unsupported_media_type',
    );
    expectError(
      await api.post('/v1/batches', '{"keys": [', { headers: { 'content-type': 'application/json' } }),
      400,
      'invalid_request',
    );
  });

  it('started nothing and wrote no key list for any of them', async () => {
    expect(await executions()).toEqual([]);
    expect(await keyLists()).toEqual([]);
  });
});

describe('a batch started twice', () => {
  it('is the same batch for the same request; another request with its requestId is a 409 and starts nothing', async () => {
    const body = { keys: keys.slice(0, 2), requestId: 'same-batch' };
    const started = await api.post('/v1/batches', body);
    expect(started).toMatchObject({
      status: 202,
      body: { batchId: 'same-batch', requestId: 'same-batch', status: 'RUNNING' },
    });
    expect((await api.post('/v1/batches', body)).body).toEqual(started.body);
    expect(await executions()).toEqual(['same-batch']);

    for (const other of [
      { keys: keys.slice(0, 3), requestId: 'same-batch' },
      { keys: keys.slice(0, 2), requestId: 'same-batch', providers: ['sagemaker'] },
      { prefix: 'images/', requestId: 'same-batch' },
    ]) {
      expect(expectError(await api.post('/v1/batches', other), 409, 'conflict')).toBe(
        'requestId same-batch already names another batch',
      );
    }
    expect(await executions()).toEqual(['same-batch']);

    // The running batch reads the key list it was started with.
    const status = await api.get('/v1/batches/same-batch');
    expect(status.body).toMatchObject({
      batchId: 'same-batch',
      status: 'RUNNING',
      source: { keys: 2 },
      counts: { complete: 0, partial: 0, failed: 0 },
      redrivable: false,
      redriveCount: 0,
    });
    const listed = await keyLists();
    expect(listed).toHaveLength(1);
    const object = await s3.send(new GetObjectCommand({ Bucket: config.IMAGES_BUCKET, Key: listed[0] }));
    expect(JSON.parse(await object.Body!.transformToString())).toEqual(
      keys.slice(0, 2).map((key) => ({ Key: key })),
    );
    const [execution] = (
      await sfn.send(new ListExecutionsCommand({ stateMachineArn: config.BATCH_KEYS_STATE_MACHINE_ARN }))
    ).executions!;
    expect(execution!.name).toBe('same-batch');

    // A running batch is not redriven.
    expect(expectError(await api.post('/v1/batches/same-batch/redrive', {}), 409, 'conflict')).toMatch(
      /batch same-batch cannot be redriven: Execution is RUNNING/,
    );
  });

  it('lists the batches, newest first', async () => {
    expect((await api.post('/v1/batches', { keys: [keys[2]], requestId: 'newer-batch' })).status).toBe(202);
    const { body } = await api.get('/v1/batches?limit=10');
    expect(body.items.map((item: { batchId: string }) => item.batchId)).toEqual([
      'newer-batch',
      'same-batch',
    ]);
    expect(Object.keys(body.items[0]).sort()).toEqual(['batchId', 'startedAt', 'status']);
    expect(body.items[0]).toMatchObject({ batchId: 'newer-batch', status: 'RUNNING' });
    expect(Date.parse(body.items[0].startedAt)).toBeGreaterThanOrEqual(Date.parse(body.items[1].startedAt));
    expect((await api.get('/v1/batches?limit=1')).body.items).toHaveLength(1);
  });
});

describe('an unknown or malformed batch id', () => {
  it('is a 404 for every batch route, a 400 when it cannot be a batch id', async () => {
    for (const [method, path] of [
      ['GET', '/v1/batches/no-such-batch'],
      ['GET', '/v1/batches/no-such-batch/items'],
      ['POST', '/v1/batches/no-such-batch/redrive'],
    ] as const) {
      expect(expectError(await api.request(method, path), 404, 'not_found')).toBe(
        'batch no-such-batch not found',
      );
    }
    expectError(await api.get('/v1/batches/not%20a%20batch'), 400, 'invalid_request');
    expectError(await api.get(`/v1/batches/${'x'.repeat(60)}/items`), 400, 'invalid_request');
  });

  it('refuses a bad items query', async () => {
    expectError(await api.get('/v1/batches/same-batch/items?status=done'), 400, 'invalid_request');
    expectError(await api.get('/v1/batches/same-batch/items?limit=1000'), 400, 'invalid_request');
    expectError(await api.get('/v1/batches/same-batch/items?nextToken=garbage'), 400, 'invalid_request');
    expectError(await api.get('/v1/batches?limit=0'), 400, 'invalid_request');
  });
});

describe('GET /v1/thumbnails', () => {
  it("answers a stored image at most 160 px on its longest edge, in the image's own format", async () => {
    const response = await fetch(`${server.url}/v1/thumbnails?key=${encodeURIComponent(keys[0]!)}`, {
      headers: { 'x-api-key': apiKey },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    const { width, height, format } = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect(format).toBe('jpeg');
    expect(Math.max(width, height)).toBe(160);
    const original = await sharp(pelican).metadata();
    expect(width / height).toBeCloseTo(original.width / original.height, 1);
  });

  it('refuses a key outside images/, an image that is not there and one that cannot be decoded', async () => {
    expectError(await api.get('/v1/thumbnails?key=batches/manifests/x.json'), 400, 'invalid_request');
    expectError(await api.get('/v1/thumbnails'), 400, 'invalid_request');
    expectError(await api.get('/v1/thumbnails?key=images/not-there.jpg'), 404, 'not_found');
    await s3.send(
      new PutObjectCommand({
        Bucket: config.IMAGES_BUCKET,
        Key: 'images/broken.jpg',
        Body: pelican.subarray(0, 300),
      }),
    );
    expectError(await api.get('/v1/thumbnails?key=images/broken.jpg'), 422, 'undecodable_image');
    expectError(await api.get(`/v1/thumbnails?key=${keys[0]}`, { apiKey: null }), 401, 'unauthorized');
  });
});
