import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copiesOf, execForm, expand, instructionsOf, readDockerfile } from '../../../docker/dockerfile.ts';
import {
  buildTaskRoot,
  invoke,
  loadWithoutPackages,
  readBuildScript,
  type Invocation,
  type TaskRoot,
} from '../../../docker/lambda-task-root.ts';
import { fixtureImage, startLocalS3, type LocalS3 } from './support/s3.ts';
import { testModelDir } from '@mc-vision/assets';

// What docker/worker.Dockerfile packages, without Docker: the package's real build into a task root laid out
// as the image's /var/task (the bundle, plus sharp as the only package beside it), and the two handlers the
// worker and ingest functions run, invoked in their own processes against s3rver and the real model server.

const workerDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = resolve(workerDir, '..', '..');
const stages = readDockerfile(join(repoRoot, 'docker', 'worker.Dockerfile'));
const image = stages.at(-1)!;
const build = stages.find((stage) => stage.name === 'build')!;
const cmd = execForm(instructionsOf(image, 'CMD').at(-1));

/** infra's image_config.command of the ingest function (infra is CommonJS with cdktf: read through tsx). */
function infraIngestCommand(): string[] {
  const infraDir = join(repoRoot, 'infra');
  const read = spawnSync(
    join(repoRoot, 'node_modules', '.bin', 'tsx'),
    ['-e', "process.stdout.write(JSON.stringify(require('./src/stacks/aws-platform').ingestCommand))"],
    { cwd: infraDir, encoding: 'utf8' },
  );
  if (read.status !== 0) throw new Error(`could not read ingestCommand: ${read.stderr}`);
  return JSON.parse(read.stdout) as string[];
}

/** The model server (SageMaker's container contract) as its image runs it, on loopback. */
async function startModelServerProcess(): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'services', 'model-server', 'src', 'main.ts'), 'serve'],
    {
      env: {
        PATH: process.env.PATH ?? '',
        HOST: '127.0.0.1',
        PORT: '0',
        MODEL_DIR: testModelDir,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolveUrl, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const listening = output.match(/"event":"listening","url":"([^"]+)"/);
      if (listening) resolveUrl(listening[1]!);
    });
    child.once('exit', (code) => reject(new Error(`model server exited (${code}): ${output}`)));
  });
  return { url, process: child };
}

const imageKey = 'images/pelican-for-the-image-test.jpeg';
const s3Event = {
  Records: [
    {
      eventName: 'ObjectCreated:Put',
      eventTime: '2026-01-01T12:00:00.000Z',
      s3: { bucket: { name: 'mc-vision-images' }, object: { key: imageKey, size: 1234, eTag: 'abc' } },
    },
  ],
};

let taskRoot: TaskRoot;
let s3: LocalS3;
let modelServer: { url: string; process: ChildProcess };
let ingestCommand: string[];
let tasks: Invocation;
let ingest: Invocation;

beforeAll(async () => {
  // One build for the whole file; both functions run the same bundle.
  taskRoot = buildTaskRoot(workerDir);
  ingestCommand = infraIngestCommand();
  [s3, modelServer] = await Promise.all([startLocalS3(), startModelServerProcess()]);
  await s3.put(imageKey, fixtureImage('pelican.jpeg'), 'image/jpeg');
  // Each function gets what infra gives it (the ingest function very little), plus the emulators' endpoints.
  const ingestEnv = {
    AWS_REGION: 'us-east-1',
    SERVICE_NAME: 'mc-vision-worker',
    MODE: 'aws',
    IMAGES_BUCKET: s3.config.IMAGES_BUCKET,
  };
  const taskEnv = {
    ...ingestEnv,
    S3_ENDPOINT: s3.config.S3_ENDPOINT!,
    SAGEMAKER_RUNTIME_ENDPOINT: modelServer.url,
    SAGEMAKER_ENDPOINT_NAME: 'mc-vision-classifier',
    BEDROCK_GUARDRAIL_ID: 'guardrail-for-the-image-test',
    BEDROCK_GUARDRAIL_VERSION: '1',
    AZURE_OPENAI_ENDPOINT: 'https://mc-vision-image-test.openai.azure.com/',
    AZURE_OPENAI_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:azure-key-AbCdEf',
    API_BASE_URL: 'https://abc123.execute-api.us-east-1.amazonaws.com',
  };
  [tasks, ingest] = await Promise.all([
    invoke(
      taskRoot.dir,
      cmd![0]!,
      [
        { task: 'classify', requestId: 'image-test-1', imageKey },
        { task: 'describe-everything', requestId: 'image-test-2', imageKey },
      ],
      taskEnv,
    ),
    invoke(taskRoot.dir, ingestCommand[0]!, [s3Event], ingestEnv),
  ]);
}, 120_000);

afterAll(async () => {
  const model = modelServer?.process;
  if (model && model.exitCode === null) {
    const exited = new Promise((resolve) => model.once('exit', resolve));
    model.kill('SIGTERM');
    await exited;
  }
  await s3?.close();
  taskRoot?.remove();
});

describe('the worker image (docker/worker.Dockerfile)', () => {
  it('builds on the Lambda Node.js 24 base image; its CMD and the ingest command name exports of the bundle', () => {
    expect(image.base).toBe('public.ecr.aws/lambda/nodejs:24');
    expect(cmd).toEqual(['index.taskHandler']);
    expect(ingestCommand).toEqual(['index.ingestHandler']);
    expect(tasks.exports).toEqual(expect.arrayContaining(['taskHandler', 'ingestHandler']));
  });

  it('copies exactly what the build writes to the task root', () => {
    const { outdir } = readBuildScript(workerDir);
    expect(
      copiesOf(image).map((c) => ({
        ...c,
        destination: expand(c.destination, { LAMBDA_TASK_ROOT: '/var/task' }),
      })),
    ).toEqual([{ from: 'build', sources: [`/src/services/worker/${outdir}/`], destination: '/var/task/' }]);
    expect(build.instructions).toContainEqual({ keyword: 'WORKDIR', args: '/src' });
    const runs = instructionsOf(build, 'RUN').map((i) => i.args);
    expect(runs.some((r) => r.includes('pnpm install --offline --frozen-lockfile'))).toBe(true);
    expect(runs.some((r) => r.includes('pnpm --filter @mc-vision/worker build'))).toBe(true);
    const native = runs.find((r) => r.includes('npm install --omit=dev'));
    expect(native).toContain(`cd services/worker/${outdir} && npm install --omit=dev`);
    expect(native).toMatch(/--os=linux --cpu=x64 --libc=glibc/);
  });

  // sharp is imported on the first image a task prepares, so the bundle starts from its own files alone.
  it("pins the lockfile's sharp in the bundle's package.json, and starts with no package beside the bundle", () => {
    const lock = readFileSync(join(repoRoot, 'pnpm-lock.yaml'), 'utf8');
    // importers → services/worker → dependencies → sharp → version
    const locked = lock.match(
      /\n {2}services\/worker:\n(?: {4}.*\n)*? {6}sharp:\n {8}specifier: .*\n {8}version: (\d[^\s(]*)/,
    )?.[1];
    expect(locked).toMatch(/^\d+\.\d+\.\d+/);
    expect(taskRoot.manifest).toEqual({ type: 'module', private: true, dependencies: { sharp: locked } });
    expect(loadWithoutPackages(taskRoot.dir, cmd![0]!)).toBe('');
  });

  it('classifies an image from S3 with the model server, as the pipeline task does', () => {
    expect(tasks.outcomes[0]).toEqual({
      result: {
        model: 'darknet-tiny',
        labels: expect.arrayContaining([{ label: 'pelican', score: expect.any(Number) }]),
        latencyMs: expect.any(Number), // measured: not known in advance
      },
    });
  });

  it('fails a task it does not know with the named error Step Functions matches', () => {
    expect(tasks.outcomes[1]).toEqual({
      error: { name: 'InvalidTaskInput', message: expect.stringContaining('invalid task input') },
    });
  });

  it("logs an S3 event's object as one JSON line with the ingest command's handler", () => {
    expect(ingest.outcomes).toEqual([{ result: { records: 1, logged: 1, skipped: 0 } }]);
    const lines = ingest.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'INFO', message: 'image uploaded', service: 'mc-vision-worker' }),
    );
    expect(JSON.stringify(lines)).toContain(imageKey);
  });
});
