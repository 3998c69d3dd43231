import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { loadConfig, type Config } from '@mc-vision/core';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  copiesOf,
  envOf,
  execForm,
  expand,
  instructionsOf,
  readDockerfile,
} from '../../../docker/dockerfile.ts';
import {
  buildTaskRoot,
  invoke,
  loadWithoutPackages,
  readBuildScript,
  type Invocation,
  type TaskRoot,
} from '../../../docker/lambda-task-root.ts';
import { pelican } from './support/images.ts';
import { httpApiEvent, type EventRequest } from './support/lambda-events.ts';
import { startLocalAws, type LocalAws } from './support/local-aws.ts';
import { startLocalPipeline, type LocalPipeline } from './support/pipeline.ts';
import { azureApiKey, startLocalProviders, type LocalProviders } from './support/providers.ts';
import { startSecretsManagerServer, type SecretsManagerEmulator } from '@mc-vision/emulators';

// What docker/api.Dockerfile packages, without Docker: the package's real build into a task root laid out as
// the image's /var/task (the bundle, plus sharp as the only package beside it), the handler the CMD names
// invoked in its own process with a Lambda-like environment, against the emulators.

const apiDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = resolve(apiDir, '..', '..');
const dockerfile = join(repoRoot, 'docker', 'api.Dockerfile');
const stages = readDockerfile(dockerfile);
const image = stages.at(-1)!;
const build = stages.find((stage) => stage.name === 'build')!;
const cmd = execForm(instructionsOf(image, 'CMD').at(-1));
/** The base image sets LAMBDA_TASK_ROOT to /var/task. */
const lambdaVariables = { LAMBDA_TASK_ROOT: '/var/task' };

const apiKey = 'image-test-key-0123456789';
const apiKeysSecretArn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:mc-vision-api-keys-AbCdEf';
const azureKeySecretArn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:mc-vision-azure-key-GhIjKl';
const storedKey = 'images/pelican-for-the-image-test.jpeg';

let taskRoot: TaskRoot;
let aws: LocalAws;
let providers: LocalProviders;
let pipeline: LocalPipeline;
let secrets: SecretsManagerEmulator;
let webRoot: string;
let run: Invocation;

const requests: Record<string, EventRequest> = {
  health: { method: 'GET', path: '/health' },
  upload: {
    method: 'POST',
    path: '/v1/images',
    headers: { 'x-api-key': apiKey, 'content-type': 'image/jpeg' },
    body: new Uint8Array(pelican),
  },
  analysis: {
    method: 'POST',
    path: '/v1/analyses',
    headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ key: storedKey }),
  },
  pipeline: {
    method: 'POST',
    path: '/v1/pipelines',
    headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ key: storedKey, requestId: 'image-test-1' }),
  },
  noKey: { method: 'GET', path: '/v1/results' },
  ui: { method: 'GET', path: '/', headers: { accept: 'text/html' } },
};
const order = Object.keys(requests);

/** The handler's answer to one of `requests`, its body as text. */
function response(name: string) {
  const outcome = run.outcomes[order.indexOf(name)]!;
  if (!('result' in outcome)) throw new Error(`${name}: the handler threw ${JSON.stringify(outcome.error)}`);
  const result = outcome.result as APIGatewayProxyStructuredResultV2;
  const text = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8').toString('utf8');
  return { ...result, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

beforeAll(async () => {
  // One build for the whole file (esbuild, about two seconds).
  taskRoot = buildTaskRoot(apiDir);
  aws = await startLocalAws();
  // The providers: the real classifier (model server) and the Bedrock and Azure OpenAI emulators.
  providers = await startLocalProviders();
  const config: Config = loadConfig({ ...aws.env, ...providers.env, DATA_DIR: aws.dataDir });
  [pipeline, secrets] = await Promise.all([
    startLocalPipeline(config, aws.clients(config).dynamodb),
    startSecretsManagerServer({
      secrets: {
        [apiKeysSecretArn]: JSON.stringify([apiKey]),
        [azureKeySecretArn]: azureApiKey,
      },
    }),
  ]);
  await aws.clients(config).s3.send(
    new PutObjectCommand({
      Bucket: config.IMAGES_BUCKET,
      Key: storedKey,
      Body: pelican,
      ContentType: 'image/jpeg',
    }),
  );
  webRoot = mkdtempSync(join(tmpdir(), 'mcv-web-root-'));
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>MC Vision</title><div id="root"></div>');

  run = await invoke(
    taskRoot.dir,
    cmd![0]!,
    order.map((name) => httpApiEvent(requests[name]!)),
    {
      ...aws.env,
      ...providers.env,
      // What the cloud must give the API explicitly (infra renders these), its keys in Secrets Manager.
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
      API_KEYS_SECRET_ARN: apiKeysSecretArn,
      AZURE_OPENAI_KEY_SECRET_ARN: azureKeySecretArn,
      AZURE_OPENAI_API_KEY: '',
      SECRETS_MANAGER_ENDPOINT: secrets.url,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      SFN_ENDPOINT: pipeline.stepFunctions.url,
      WEB_ROOT: webRoot,
      AWS_REGION: 'us-east-1',
      LAMBDA_TASK_ROOT: taskRoot.dir,
    },
  );
}, 120_000);

afterAll(async () => {
  // The pipeline first: the execution the test started may still be running its tasks on the providers.
  await pipeline?.close();
  await Promise.all([providers?.close(), secrets?.close()]);
  await aws?.close();
  taskRoot?.remove();
  if (webRoot) rmSync(webRoot, { recursive: true, force: true });
});

describe('the API image (docker/api.Dockerfile)', () => {
  it('builds on the Lambda Node.js 24 base image and runs the handler the bundle exports', () => {
    expect(image.base).toBe('public.ecr.aws/lambda/nodejs:24');
    expect(cmd).toEqual(['index.handler']);
    expect(run.exports).toContain('handler');
  });

  it('copies exactly what the build writes: the bundle to the task root, the web UI to WEB_ROOT', () => {
    const { outdir } = readBuildScript(apiDir);
    const copies = copiesOf(image).map((copy) => ({
      ...copy,
      destination: expand(copy.destination, lambdaVariables),
    }));
    expect(copies).toEqual([
      { from: 'build', sources: [`/src/services/api/${outdir}/`], destination: '/var/task/' },
      { from: 'build', sources: ['/src/web/dist/'], destination: '/var/task/web/' },
    ]);
    expect(build.instructions).toContainEqual({ keyword: 'WORKDIR', args: '/src' });
    expect(envOf(image).WEB_ROOT).toBe('/var/task/web');
  });

  it('installs the locked dependencies, and sharp for Lambda (linux, x64, glibc) beside the bundle', () => {
    const runs = instructionsOf(build, 'RUN').map((i) => i.args);
    expect(runs.some((r) => r.includes('pnpm install --offline --frozen-lockfile'))).toBe(true);
    expect(runs.some((r) => r.includes('pnpm --filter @mc-vision/api build'))).toBe(true);
    expect(runs.some((r) => r.includes('pnpm --filter @mc-vision/web build'))).toBe(true);
    const native = runs.find((r) => r.includes('npm install --omit=dev'));
    expect(native).toContain(`cd services/api/${readBuildScript(apiDir).outdir} && npm install --omit=dev`);
    expect(native).toMatch(/--os=linux --cpu=x64 --libc=glibc/);
  });

  it("pins the lockfile's sharp in the bundle's package.json, and nothing else beside the bundle", () => {
    const lock = readFileSync(join(repoRoot, 'pnpm-lock.yaml'), 'utf8');
    // importers → services/api → dependencies → sharp → version
    const locked = lock.match(
      /\n {2}services\/api:\n(?: {4}.*\n)*? {6}sharp:\n {8}specifier: .*\n {8}version: (\d[^\s(]*)/,
    )?.[1];
    expect(locked).toMatch(/^\d+\.\d+\.\d+/);
    expect(taskRoot.manifest).toEqual({ type: 'module', private: true, dependencies: { sharp: locked } });
  });

  // Nothing but the bundle's own files is loaded at start; sharp is imported on the first image (the upload
  // below decodes one with the sharp installed beside the bundle).
  it('starts from its own files alone, with no package installed beside them', () => {
    expect(loadWithoutPackages(taskRoot.dir, cmd![0]!)).toBe('');
  });

  it('answers an HTTP API GET /health with JSON, every dependency reached by the bundled SDK clients', () => {
    const health = response('health');
    expect(health.statusCode).toBe(200);
    expect(health.headers?.['content-type']).toMatch(/^application\/json/);
    expect(health.json()).toMatchObject({
      status: 'ok',
      mode: 'aws',
      components: {
        imagesBucket: { status: 'up' },
        resultsTable: { status: 'up' },
        stateMachine: { status: 'up' },
        classifier: { status: 'up', detail: 'model darknet-tiny' },
      },
    });
  });

  it('decodes an uploaded photo with sharp from the task root and stores it', () => {
    const upload = response('upload');
    expect(upload.statusCode).toBe(201);
    expect(upload.json()).toMatchObject({ contentType: 'image/jpeg', width: 500, height: 375 });
  });

  it('runs an analysis through the three providers and starts a pipeline', () => {
    const analysis = response('analysis');
    expect(analysis.statusCode).toBe(200);
    expect(analysis.json()).toMatchObject({
      imageKey: storedKey,
      status: 'complete',
      results: { sagemaker: { model: 'darknet-tiny' }, bedrock: {}, azure: {} },
    });
    const { results } = analysis.json() as { results: { sagemaker: { labels: { label: string }[] } } };
    expect(results.sagemaker.labels[0]?.label).toBe('pelican');
    const started = response('pipeline');
    expect(started.statusCode).toBe(202);
    expect(started.json()).toMatchObject({ requestId: 'image-test-1' });
  });

  it('refuses /v1 without a key with a JSON 401, never a stack trace', () => {
    const refused = response('noKey');
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({
      error: { code: 'unauthorized', message: 'missing x-api-key header' },
    });
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  // The image sets WEB_ROOT to the UI it carries; the Lambda entry serves it at `/`.
  it('serves the web UI from WEB_ROOT', () => {
    const ui = response('ui');
    expect(ui.statusCode).toBe(200);
    expect(ui.text).toContain('<title>MC Vision</title>');
  });
});
