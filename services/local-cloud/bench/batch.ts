import { photoVariants } from '@mc-vision/assets/photo-variants';
import { testModelDir } from '@mc-vision/assets';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatLogEntry, startLocalCloud } from '../src/index.ts';

// `pnpm bench` (this package's entry): local batch throughput beside single-pipeline throughput, on one local
// cloud (darknet-tiny, the LLM emulators), each image a photo of its own: N images as pipelines one at a time, N
// as pipelines `concurrency` at a time (the batch's MaxConcurrency), and N as one batch. BENCH_BATCH_IMAGES sets
// N (default 60). Figures only: nothing here is a test.

const count = Number(process.env.BENCH_BATCH_IMAGES ?? 60);
const concurrency = 10;
const pollMs = 50;

const dataDir = await mkdtemp(join(tmpdir(), 'mc-vision-bench-batch-'));
const cloud = await startLocalCloud({
  dataDir,
  port: 0,
  modelDir: testModelDir,
  env: { POWERTOOLS_LOG_LEVEL: 'ERROR', BATCH_MAX_CONCURRENCY: String(concurrency) },
  log: (entry) => {
    if (entry.level === 'error') console.error(formatLogEntry(entry));
  },
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's answers, read field by field below
async function api(path: string, body?: unknown, contentType = 'application/json'): Promise<any> {
  const response = await fetch(`${cloud.url.replace(/\/$/, '')}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'x-api-key': cloud.apiKey, ...(body === undefined ? {} : { 'content-type': contentType }) },
    ...(body === undefined ? {} : { body: body instanceof Uint8Array ? body : JSON.stringify(body) }),
  });
  const parsed = await response.json();
  if (response.status >= 400) throw new Error(`${path}: ${response.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

async function until(path: string, done: (body: { status: string }) => boolean) {
  for (;;) {
    const body = await api(path);
    if (done(body)) return body;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

async function pipeline(key: string): Promise<string> {
  const { executionId } = await api('/v1/pipelines', { key });
  return (
    await until(`/v1/pipelines/${encodeURIComponent(executionId)}`, (body) => body.status !== 'RUNNING')
  ).status;
}

async function inPool<T>(items: T[], size: number, work: (item: T) => Promise<void>) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (queue.length > 0) await work(queue.shift()!);
    }),
  );
}

/** Seconds a run took and whether every image came out complete. */
async function timed(run: () => Promise<string[]>) {
  const started = performance.now();
  const statuses = await run();
  const seconds = (performance.now() - started) / 1000;
  return { seconds, ok: statuses.every((status) => status === 'SUCCEEDED') };
}

try {
  const photos = await photoVariants(3 * count + 2, 120);
  const keys: string[] = [];
  for (const photo of photos) keys.push((await api('/v1/images', new Uint8Array(photo), 'image/jpeg')).key);
  // Warm-up: the first pipelines load the providers and compile the path.
  for (const key of keys.splice(0, 2)) await pipeline(key);

  const sequential = await timed(async () => {
    const statuses: string[] = [];
    for (const key of keys.splice(0, count)) statuses.push(await pipeline(key));
    return statuses;
  });
  const parallel = await timed(async () => {
    const statuses: string[] = [];
    await inPool(keys.splice(0, count), concurrency, async (key) => void statuses.push(await pipeline(key)));
    return statuses;
  });
  const batch = await timed(async () => {
    const { batchId } = await api('/v1/batches', { keys: keys.splice(0, count) });
    const ended = await until(`/v1/batches/${batchId}`, (body) => body.status !== 'RUNNING');
    if (ended.counts.complete !== count) throw new Error(`batch counts ${JSON.stringify(ended.counts)}`);
    return [ended.status];
  });

  const row = (name: string, run: { seconds: number; ok: boolean }) =>
    `| ${name.padEnd(48)} | ${String(count).padStart(6)} | ${run.seconds.toFixed(1).padStart(7)} | ` +
    `${(count / run.seconds).toFixed(2).padStart(8)} | ${run.ok ? 'all succeeded' : 'NOT all succeeded'} |`;
  console.log(
    [
      `local batch throughput beside single pipelines: ${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, ` +
        `Node ${process.version}, ${new Date().toISOString()}`,
      '',
      `| ${'run'.padEnd(48)} | images | seconds | images/s | outcome |`,
      `| ${'-'.repeat(48)} | -----: | ------: | -------: | ------- |`,
      row('pipelines, one at a time', sequential),
      row(`pipelines, ${concurrency} at a time`, parallel),
      row(`one batch (Distributed Map, MaxConcurrency ${concurrency})`, batch),
    ].join('\n'),
  );
} finally {
  await cloud.close();
  await rm(dataDir, { recursive: true, force: true });
}
