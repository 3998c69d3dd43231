import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { imageResponseSchema, loadConfig, type Config } from '@mc-vision/core';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { setTimeout } from 'node:timers/promises';
import { createLambdaHandler, handler, type ApiHandler } from '../src/lambda.ts';
import { wireDependencies } from '../src/wiring.ts';
import { baldEagle, pelican, pelicanAs } from './support/images.ts';
import { functionUrlEvent, httpApiEvent, lambdaContext, type EventRequest } from './support/lambda-events.ts';
import { startLocalAws, type LocalAws } from './support/local-aws.ts';
import { azureApiKey, startLocalProviders, type LocalProviders } from './support/providers.ts';
import { startSecretsManagerServer, type SecretsManagerEmulator } from '@mc-vision/emulators';

// The Lambda entry: API Gateway HTTP API (payload 2.0) and Function URL events through
// @codegenie/serverless-express into the same app, against dynalite, s3rver and the provider emulators.

const apiKey = 'lambda-test-key-0123456789';
const apiKeysSecretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:mc-vision-api-keys-AbCdEf';
const azureKeySecretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:mc-vision-azure-key-GhIjKl';

let aws: LocalAws;
let providers: LocalProviders;
let secrets: SecretsManagerEmulator;
let config: Config;
let s3: S3Client;
let invoke: ApiHandler;

beforeAll(async () => {
  [aws, providers, secrets] = await Promise.all([
    startLocalAws(),
    startLocalProviders(),
    startSecretsManagerServer({
      secrets: {
        [apiKeysSecretArn]: JSON.stringify([apiKey, 'second-lambda-key-0123456789']),
        [azureKeySecretArn]: azureApiKey,
      },
    }),
  ]);
  config = loadConfig({ ...aws.env, ...providers.env, DATA_DIR: aws.dataDir });
  ({ s3 } = aws.clients(config));
  invoke = createLambdaHandler(
    wireDependencies(config, {
      // Keys come from a cache that may have to ask Secrets Manager: the body is read after that wait.
      apiKeys: async () => {
        await setTimeout(5);
        return [apiKey];
      },
      logger: new Logger({ logLevel: 'SILENT' }),
    }),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all([aws?.close(), providers?.close(), secrets?.close()]);
});

const withKey = (request: EventRequest): EventRequest => ({
  ...request,
  headers: { 'x-api-key': apiKey, ...request.headers },
});

function json(result: APIGatewayProxyStructuredResultV2) {
  expect(result.isBase64Encoded).toBe(false);
  expect(result.headers?.['content-type']).toMatch(/^application\/json/);
  return JSON.parse(result.body!);
}

async function storedBytes(key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: config.IMAGES_BUCKET, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

describe.each([
  ['API Gateway HTTP API', httpApiEvent],
  ['Function URL', functionUrlEvent],
])('%s events', (_source, toEvent) => {
  it('take a base64-encoded image body as the exact bytes', async () => {
    for (const [bytes, contentType] of [
      [pelican, 'image/jpeg'],
      [await pelicanAs('png'), 'image/png'],
    ] as const) {
      const result = await invoke(
        toEvent(
          withKey({
            method: 'POST',
            path: '/v1/images',
            headers: { 'content-type': contentType },
            body: bytes,
          }),
        ),
        lambdaContext(),
      );
      expect(result.statusCode).toBe(201);
      const image = imageResponseSchema.parse(json(result));
      expect(image.bytes).toBe(bytes.length);
      expect((await storedBytes(image.key)).equals(bytes)).toBe(true);
    }
  });

  it('take JSON bodies, plain or base64-encoded, and the raw query string', async () => {
    const upload = { contentType: 'image/jpeg', contentLength: 1234 };
    for (const body of [JSON.stringify(upload), new TextEncoder().encode(JSON.stringify(upload))]) {
      const result = await invoke(
        toEvent(
          withKey({
            method: 'POST',
            path: '/v1/uploads',
            headers: { 'content-type': 'application/json' },
            body,
          }),
        ),
        lambdaContext(),
      );
      expect(result.statusCode).toBe(200);
      expect(json(result).headers).toEqual({ 'content-type': 'image/jpeg', 'content-length': '1234' });
    }
    const list = await invoke(
      toEvent(withKey({ method: 'GET', path: '/v1/results', query: 'limit=0' })),
      lambdaContext(),
    );
    expect(list.statusCode).toBe(400);
    expect(json(list).error.message).toMatch(/^query\.limit: /);
  });

  it('answer errors in the contract form, with the request id header', async () => {
    const noKey = await invoke(toEvent({ method: 'GET', path: '/v1/results' }), lambdaContext());
    expect(noKey.statusCode).toBe(401);
    const body = json(noKey);
    expect(body.error).toMatchObject({ code: 'unauthorized' });
    expect(noKey.headers?.['x-request-id']).toBe(body.error.requestId);

    const malformed = await invoke(
      toEvent(
        withKey({
          method: 'POST',
          path: '/v1/analyses',
          headers: { 'content-type': 'application/json' },
          body: '{"key":',
        }),
      ),
      lambdaContext(),
    );
    expect(malformed.statusCode).toBe(400);
    expect(json(malformed).error.message).toBe('request body is not valid JSON');

    const missing = await invoke(toEvent(withKey({ method: 'GET', path: '/v1/nope' })), lambdaContext());
    expect(missing.statusCode).toBe(404);
  });

  it('run an analysis end to end', async () => {
    const stored = json(
      await invoke(
        toEvent(
          withKey({
            method: 'POST',
            path: '/v1/images',
            headers: { 'content-type': 'image/jpeg' },
            body: baldEagle,
          }),
        ),
        lambdaContext(),
      ),
    );
    const result = await invoke(
      toEvent(
        withKey({
          method: 'POST',
          path: '/v1/analyses',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ key: stored.key, providers: ['sagemaker', 'bedrock'] }),
        }),
      ),
      lambdaContext(),
    );
    expect(result.statusCode).toBe(200);
    const record = json(result);
    expect(record.status).toBe('complete');
    expect(record.results.sagemaker.labels[0].label).toMatch(/eagle|kite/);
  });
});

describe('the exported handler (configuration from the environment)', () => {
  // Everything the API must be given in the cloud but its two secrets (the tests add those).
  const environment = () => ({
    ...aws.env,
    ...providers.env,
    AZURE_OPENAI_API_KEY: '',
    MODE: 'aws',
    SERVICE_NAME: 'mc-vision',
    NAME_PREFIX: 'mc-vision',
    DEPLOY_ENV: 'dev',
    HTTP_API_ID: 'a1b2c3d4e5',
    IMAGES_BUCKET: config.IMAGES_BUCKET,
    RESULTS_TABLE: config.RESULTS_TABLE,
    STATE_MACHINE_ARN: config.STATE_MACHINE_ARN,
    BATCH_PREFIX_STATE_MACHINE_ARN: config.BATCH_PREFIX_STATE_MACHINE_ARN,
    BATCH_KEYS_STATE_MACHINE_ARN: config.BATCH_KEYS_STATE_MACHINE_ARN,
    SAGEMAKER_ENDPOINT_NAME: config.SAGEMAKER_ENDPOINT_NAME,
    BEDROCK_GUARDRAIL_ID: config.BEDROCK_GUARDRAIL_ID,
    BEDROCK_GUARDRAIL_VERSION: config.BEDROCK_GUARDRAIL_VERSION,
    SECRETS_MANAGER_ENDPOINT: secrets.url,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });

  it('refuses to start without its secrets, naming both at once', async () => {
    Object.assign(process.env, environment());
    const started = handler(httpApiEvent({ method: 'GET', path: '/health' }), lambdaContext());
    await expect(started).rejects.toThrow(/API_KEYS_SECRET_ARN: required/);
    await expect(started).rejects.toThrow(/AZURE_OPENAI_KEY_SECRET_ARN: required/);
  });

  it('refuses to start on a laptop default in the cloud', async () => {
    Object.assign(process.env, environment(), {
      API_KEYS_SECRET_ARN: apiKeysSecretArn,
      AZURE_OPENAI_KEY_SECRET_ARN: azureKeySecretArn,
      AZURE_OPENAI_ENDPOINT: '',
    });
    await expect(handler(httpApiEvent({ method: 'GET', path: '/health' }), lambdaContext())).rejects.toThrow(
      /AZURE_OPENAI_ENDPOINT: required when MODE=aws/,
    );
  });

  it('reads the API keys and the Azure key from Secrets Manager, once per cache period', async () => {
    Object.assign(process.env, environment(), {
      AZURE_OPENAI_ENDPOINT: providers.env.AZURE_OPENAI_ENDPOINT,
      API_KEYS_SECRET_ARN: apiKeysSecretArn,
      AZURE_OPENAI_KEY_SECRET_ARN: azureKeySecretArn,
    });
    for (const key of [apiKey, 'second-lambda-key-0123456789']) {
      const ok = await handler(
        httpApiEvent({ method: 'GET', path: '/v1/results', headers: { 'x-api-key': key } }),
        lambdaContext(),
      );
      expect(ok.statusCode).toBe(200);
    }
    const refused = await handler(
      httpApiEvent({ method: 'GET', path: '/v1/results', headers: { 'x-api-key': 'not-one-of-them-0123' } }),
      lambdaContext(),
    );
    expect(refused.statusCode).toBe(401);
    expect(secrets.calls.get(apiKeysSecretArn)).toBe(1);

    // Azure answers only to the key kept in the secret.
    const image = JSON.parse(
      (
        await handler(
          functionUrlEvent({
            method: 'POST',
            path: '/v1/images',
            headers: { 'x-api-key': apiKey, 'content-type': 'image/jpeg' },
            body: pelican,
          }),
          lambdaContext(),
        )
      ).body!,
    );
    const analysis = await handler(
      functionUrlEvent({
        method: 'POST',
        path: '/v1/analyses',
        headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ key: image.key, providers: ['azure'] }),
      }),
      lambdaContext(),
    );
    expect(analysis.statusCode).toBe(200);
    expect(JSON.parse(analysis.body!).results.azure.caption).toMatch(/pelican/i);
    expect(secrets.calls.get(azureKeySecretArn)).toBe(1);

    const health = JSON.parse(
      (await handler(httpApiEvent({ method: 'GET', path: '/health' }), lambdaContext())).body!,
    );
    expect(health.mode).toBe('aws');
  });
});
