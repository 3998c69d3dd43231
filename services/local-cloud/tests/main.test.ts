import { afterEach, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readExecutions } from '@mc-vision/emulators';
import {
  apiClient,
  modelDir,
  postFault,
  startTestCloud,
  tempDir,
  uploadPelican,
  waitForPipeline,
  type TestCloud,
} from './support.ts';

// `pnpm start` as a user runs it (`node src/main.ts`): it prints where everything is, serves /health with every
// component up, and stops cleanly on Ctrl-C. Killed outright mid-pipeline, it runs the execution again on the
// next start.

const packageDir = fileURLToPath(new URL('..', import.meta.url));

interface Started {
  child: ChildProcess;
  output: () => string;
  url: string;
  apiKey: string;
  adminToken: string;
  /** Each component's URL as printed, by name. */
  printed: Record<string, string>;
  /** When the process was spawned (performance.now()). */
  spawned: number;
}

/** Spawns `node src/main.ts` and waits for its banner. */
async function startMain(dataDir: string): Promise<Started> {
  const spawned = performance.now();
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: packageDir,
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, MODEL_DIR: modelDir, POWERTOOLS_LOG_LEVEL: 'WARN' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 60 s:\n${output}`)), 60_000);
    const check = () => {
      if (/Ctrl-C stops everything/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`main.ts exited with ${code}:\n${output}`));
    });
  });
  const printed = Object.fromEntries(
    [...output.matchAll(/^ {4}(\w+) +(http:\/\/127\.0\.0\.1:\d+)/gm)].map((match) => [match[1]!, match[2]!]),
  );
  return {
    child,
    output: () => output,
    url: /^ {2}API +(http:\/\/127\.0\.0\.1:\d+)/m.exec(output)![1]!,
    apiKey: /^ {2}API key +(\S+)$/m.exec(output)![1]!,
    adminToken: /^ {2}admin +(\S+) /m.exec(output)![1]!,
    printed,
    spawned,
  };
}

/** The mode of every file and folder under `root` (`.` for the root itself), by relative path. */
async function modesUnder(root: string): Promise<Map<string, number>> {
  const modes = new Map([['.', (await stat(root)).mode & 0o777]]);
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    modes.set(relative(root, path), (await stat(path)).mode & 0o777);
  }
  return modes;
}

/** The status of a GET with exactly these headers (fetch would not let a test set Host). */
function statusOf(url: string, headers: Record<string, string>): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path: '/', headers }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

const exitOf = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });

describe('pnpm start (src/main.ts)', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('prints where everything is, serves /health with every component up, and stops on Ctrl-C', async () => {
    const dataDir = await tempDir('main');
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const main = await startMain(dataDir);
    cleanups.push(async () => main.child.kill('SIGKILL'));

    const output = main.output();
    // The UI's link carries a one-time code, never the key (browsers keep every address in their history).
    expect(output).toMatch(new RegExp(`^ {2}UI +${main.url}/#code=[\\w-]{32} `, 'm'));
    expect(output.split('\n').filter((line) => line.includes(main.apiKey))).toEqual([
      `  API key    ${main.apiKey}`,
    ]);
    expect(output).toMatch(new RegExp(`data +${dataDir}`));
    expect(output).toMatch(new RegExp(`outbox +${join(dataDir, 'outbox.jsonl')}`));
    expect(output).toMatch(/started in \d+\.\d s/);
    expect(output).toMatch(/classifier darknet-tiny/);
    // Every component, in the order they started (and stop in reverse).
    expect(Object.keys(main.printed)).toEqual([
      'cloudwatch',
      'dynamodb',
      's3',
      'sns',
      'sagemaker',
      'bedrock',
      'azure',
      'stepfunctions',
      'api',
    ]);
    expect(main.printed.api).toBe(main.url);
    expect((await readFile(join(dataDir, 'api-key'), 'utf8')).trim()).toBe(main.apiKey);

    const response = await fetch(`${main.url}/health`);
    expect(response.status).toBe(200);
    const health = (await response.json()) as {
      status: string;
      mode: string;
      components: Record<string, unknown>;
    };
    expect(health).toMatchObject({ status: 'ok', mode: 'local' });
    const up = { status: 'up' };
    expect(health.components).toEqual({
      imagesBucket: up,
      resultsTable: up,
      stateMachine: up,
      classifier: { status: 'up', detail: 'model darknet-tiny' },
      notifications: up,
      bedrock: up,
      azure: up,
    });
    console.log(
      `main.ts: spawn to /health 200 in ${((performance.now() - main.spawned) / 1000).toFixed(1)} s`,
    );

    // The UI is served with the API.
    const page = await fetch(`${main.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<div id="root">/);

    main.child.kill('SIGINT');
    expect(await exitOf(main.child)).toEqual({ code: 0, signal: null });
    expect(main.output()).toMatch(/stopped\s*$/);
  }, 90_000);

  it('keeps .data/ its owner’s alone (0700, files 0600) and answers only its owner', async () => {
    const dataDir = await tempDir('owner');
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const main = await startMain(dataDir);
    cleanups.push(async () => main.child.kill('SIGKILL'));

    // Everything is written once: the image, a record, an execution, the outbox.
    const api = apiClient(main.url, main.apiKey);
    const key = await uploadPelican(api);
    expect((await api.post('/v1/pipelines', { key, requestId: 'owner-only' })).status).toBe(202);
    expect((await waitForPipeline(api, 'owner-only')).status).toBe('SUCCEEDED');
    expect((await readFile(join(dataDir, 'admin-token'), 'utf8')).trim()).toBe(main.adminToken);
    for (const name of ['api-key', 'admin-token', 'aws-credentials', 'outbox.jsonl', 'local-cloud.pid']) {
      expect(existsSync(join(dataDir, name))).toBe(true);
    }
    const modes = await modesUnder(dataDir);
    expect(modes.get('.')).toBe(0o700);
    expect(modes.size).toBeGreaterThan(10);
    expect([...modes].filter(([, mode]) => mode !== 0o700 && mode !== 0o600)).toEqual([]);
    for (const dir of ['dynamodb', 's3', 'stepfunctions']) expect(modes.get(dir)).toBe(0o700);

    // A web page's request by another name, or from its own origin, is refused by the API and the emulators.
    for (const url of [main.url, main.printed.bedrock!, main.printed.stepfunctions!]) {
      const { port } = new URL(url);
      expect(await statusOf(url, { host: `evil.example:${port}` })).toBe(403);
      expect(await statusOf(url, { host: `127.0.0.1:${port}`, origin: 'http://evil.example' })).toBe(403);
    }
    // The fault route needs the token pnpm start printed.
    const faults = `${main.printed.bedrock}/_emulator/faults`;
    expect((await fetch(faults)).status).toBe(401);
    expect((await fetch(faults, { headers: { authorization: `Bearer ${main.adminToken}` } })).status).toBe(
      200,
    );
  }, 120_000);

  it('explains why it cannot start, and exits with status 1', async () => {
    const dataDir = await tempDir('refused');
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => busy.close(resolve)));
    const port = (busy.address() as AddressInfo).port;

    const run = (env: Record<string, string>) =>
      new Promise<{ code: number | null; output: string }>((resolve) => {
        execFile(
          process.execPath,
          ['src/main.ts'],
          { cwd: packageDir, env: { ...process.env, DATA_DIR: dataDir, MODEL_DIR: modelDir, ...env } },
          (error, stdout, stderr) =>
            resolve({ code: error ? (error.code as number) : 0, output: stdout + stderr }),
        );
      });
    const taken = await run({ PORT: String(port) });
    expect(taken.code).toBe(1);
    expect(taken.output).toContain(`MC Vision could not start: port ${port} is already in use`);
    const invalid = await run({ PORT: '0', CLASSIFIER_TOP_K: 'many' });
    expect(invalid.code).toBe(1);
    expect(invalid.output).toMatch(
      /MC Vision could not start: Invalid configuration:\n\s+- CLASSIFIER_TOP_K: /,
    );
    // One local cloud per data folder (DynamoDB's files cannot be shared).
    const running = await startTestCloud({ dataDir });
    cleanups.push(() => running.stop());
    const shared = await run({ PORT: '0' });
    expect(shared.code).toBe(1);
    expect(shared.output).toContain(`the data folder ${dataDir} is in use by another MC Vision local cloud`);
    expect(taken.output + invalid.output + shared.output).not.toMatch(/\n\s+at /); // no stack trace
  }, 60_000);

  it('says only what matters through `pnpm start`: the one line, no nested pnpm errors', async () => {
    const dataDir = await tempDir('pnpm-start');
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => busy.close(resolve)));
    const port = (busy.address() as AddressInfo).port;
    // The pnpm running these tests (npm_execpath), else the one on PATH, runs the root script as a user would.
    const pnpm = process.env.npm_execpath;
    const [command, args] = pnpm ? [process.execPath, [pnpm, 'start']] : ['pnpm', ['start']];
    const output = await new Promise<string>((resolve) => {
      execFile(
        command,
        args,
        {
          cwd: join(packageDir, '..', '..'),
          env: { ...process.env, DATA_DIR: dataDir, MODEL_DIR: modelDir, PORT: String(port) },
        },
        (_error, stdout, stderr) => resolve(stdout + stderr),
      );
    });
    expect(output.match(/could not start.*/g)).toEqual([
      `could not start: port ${port} is already in use: stop what uses it, or set PORT to another port`,
    ]);
    expect(output).not.toMatch(/ERR_PNPM|Exit status|Unsupported engine/);
  }, 60_000);

  it('runs an execution that was RUNNING when the process was killed again, to the end, on the next start', async () => {
    const dataDir = await tempDir('crash');
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const main = await startMain(dataDir);
    cleanups.push(async () => main.child.kill('SIGKILL'));
    const api = apiClient(main.url, main.apiKey);
    const key = await uploadPelican(api);
    // Bedrock answers 503 a few times: the pipeline retries with backoff, so it is surely still running when
    // the process is killed.
    await postFault(main.printed.bedrock!, main.adminToken, { status: 503, times: 3 });
    const started = await api.post('/v1/pipelines', { key, requestId: 'crashed' });
    expect(started.status).toBe(202);
    main.child.kill('SIGKILL');
    expect(await exitOf(main.child)).toEqual({ code: null, signal: 'SIGKILL' });

    const { records } = await readExecutions(join(dataDir, 'stepfunctions'));
    expect([...records.values()].find((record) => record.name === 'crashed')?.status).toBe('RUNNING');

    const restarted: TestCloud = await startTestCloud({ dataDir });
    cleanups.push(() => restarted.stop());
    expect(restarted.cloud.apiKey).toBe(main.apiKey);
    const finished = await waitForPipeline(restarted.api, 'crashed');
    expect(finished).toMatchObject({
      status: 'SUCCEEDED',
      output: { requestId: 'crashed', status: 'complete' },
    });
    expect((await restarted.api.get('/v1/results/crashed')).body).toEqual(finished.output);
  }, 120_000);
});
