import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  readExecutions,
  startAzureOpenAiServer,
  startBedrockRuntimeServer,
  type EmulatorServer,
} from '@mc-vision/emulators';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  allBatchItems,
  apiClient,
  modelDir,
  photoVariants,
  tempDir,
  waitForBatch,
  type ApiClient,
} from './support.ts';

// The platform is killed (SIGKILL: no shutdown at all) in the middle of a batch and started again on the same
// data folder. The Bedrock and Azure emulators run here, outside the platform, so their call counts survive the
// kill: they say how often each image was described.

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Counts the calls per image (by the hash of the bytes the describer was sent) and answers fixed labels. */
function countingClassifier() {
  const calls = new Map<string, number>();
  const classify = async (bytes: Uint8Array) => {
    const hash = sha256(bytes);
    calls.set(hash, (calls.get(hash) ?? 0) + 1);
    return { model: 'counting', labels: [{ label: 'bird', score: 0.9 }] };
  };
  return { calls, classify };
}

/** `pnpm start`'s entry as its own process, pointed at the describers here; resolves once it is up. */
async function startPlatform(
  dataDir: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; api: ApiClient }> {
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: packageDir,
    env: {
      ...process.env,
      ...env,
      PORT: '0',
      DATA_DIR: dataDir,
      MODEL_DIR: modelDir,
      POWERTOOLS_LOG_LEVEL: 'WARN',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 90 s:\n${output}`)), 90_000);
    child.stdout!.on('data', () => {
      if (!/Ctrl-C stops everything/.test(output)) return;
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`main.ts exited with ${code}:\n${output}`)));
  });
  const url = /^ {2}API +(http:\/\/127\.0\.0\.1:\d+)/m.exec(output)![1]!;
  const apiKey = /^ {2}API key +(\S+)$/m.exec(output)![1]!;
  return { child, api: apiClient(url, apiKey) };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** The image keys of the batch's children that had SUCCEEDED on disk when the platform died. */
async function finishedKeys(dataDir: string): Promise<string[]> {
  const { records } = await readExecutions(join(dataDir, 'stepfunctions'));
  return [...records.values()]
    .filter((record) => record.stateMachineName === 'mc-vision-batch-keys/Images')
    .filter((record) => record.status === 'SUCCEEDED')
    .map((record) => (JSON.parse(record.input) as { imageKey: string }).imageKey);
}

describe('a batch whose platform is killed half way', () => {
  const bedrock = countingClassifier();
  const azure = countingClassifier();
  let servers: EmulatorServer[] = [];
  let child: ChildProcess | undefined;
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = await tempDir('crash');
    const bedrockServer = await startBedrockRuntimeServer({
      classify: bedrock.classify,
      guardrailId: 'mc-vision-guardrail',
    });
    const azureServer = await startAzureOpenAiServer({
      apiKey: 'crash-test-key-0123456789',
      classify: azure.classify,
    });
    servers = [bedrockServer, azureServer];
    env = {
      BEDROCK_RUNTIME_ENDPOINT: bedrockServer.url,
      AZURE_OPENAI_ENDPOINT: azureServer.url,
      AZURE_OPENAI_API_KEY: 'crash-test-key-0123456789',
      BATCH_MAX_CONCURRENCY: '4',
    };
  }, 60_000);
  afterAll(async () => {
    if (child) await kill(child);
    await Promise.all(servers.map((server) => server.close()));
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('finishes after a restart, one record per image, no finished image described again', async () => {
    let platform = await startPlatform(dataDir, env);
    child = platform.child;
    const images = await photoVariants(40);
    const keys: string[] = [];
    for (const image of images)
      keys.push((await platform.api.post('/v1/images', image, 'image/jpeg')).body.key);
    const hashOf = new Map(keys.map((key, index) => [key, sha256(images[index]!)]));

    expect((await platform.api.post('/v1/batches', { keys, requestId: 'crash' })).status).toBe(202);
    // Killed once some children have SUCCEEDED on disk (a record saved is not yet its execution's end written).
    await waitUntil(async () => (await finishedKeys(dataDir)).length >= 8);
    await kill(platform.child);
    const finished = await finishedKeys(dataDir);
    expect(finished.length).toBeGreaterThanOrEqual(8);
    expect(finished.length).toBeLessThan(40);

    platform = await startPlatform(dataDir, env);
    child = platform.child;
    const done = await waitForBatch(platform.api, 'crash');
    expect(done).toMatchObject({
      status: 'SUCCEEDED',
      counts: { total: 40, complete: 40, failed: 0, running: 0 },
    });

    // Every image has exactly one record.
    const items = await allBatchItems(platform.api, 'crash');
    expect(items.map((item) => item.key).sort()).toEqual([...keys].sort());
    expect(new Set(items.map((item) => item.requestId)).size).toBe(40);
    // The images that had finished before the kill were described once, by each describer; every image was.
    for (const key of finished) {
      expect([key, bedrock.calls.get(hashOf.get(key)!), azure.calls.get(hashOf.get(key)!)]).toEqual([
        key,
        1,
        1,
      ]);
    }
    for (const key of keys) expect(bedrock.calls.get(hashOf.get(key)!)).toBeGreaterThanOrEqual(1);
    await kill(platform.child);
  }, 600_000);
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
