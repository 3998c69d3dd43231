// A batch against pipelines on the local cloud (darknet-tiny): the same number of images, each a photo of its own,
// as pipelines one at a time, as pipelines 10 at a time (the batch's MaxConcurrency, each polled by its client),
// and as one batch (a Distributed Map in the Step Functions emulator, polled by one client): images per second.
import { perSecond, ratio, Report } from '../report.ts';
import { distinctPhoto, startBenchCloud, upload, type BenchCloud } from '../local-platform.ts';

const images = Number(process.env.BENCH_BATCH_IMAGES ?? 60);
/** The batches' MaxConcurrency (BATCH_MAX_CONCURRENCY's default), and so the pipelines' too. */
const concurrency = 10;
const pollMs = 50;

async function json(cloud: BenchCloud, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await cloud.api(
    path,
    body === undefined
      ? {}
      : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
  );
  const answer = (await response.json()) as Record<string, unknown>;
  if (response.status >= 400)
    throw new Error(`${path} answered ${response.status}: ${JSON.stringify(answer)}`);
  return answer;
}

/** Polls until the execution behind `path` has ended; answers its last status. */
async function ended(cloud: BenchCloud, path: string): Promise<Record<string, unknown>> {
  for (;;) {
    const status = await json(cloud, path);
    if (status.status !== 'RUNNING') return status;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

async function pipeline(cloud: BenchCloud, key: string): Promise<boolean> {
  const { executionId } = await json(cloud, '/v1/pipelines', { key });
  return (
    (await ended(cloud, `/v1/pipelines/${encodeURIComponent(String(executionId))}`)).status === 'SUCCEEDED'
  );
}

async function timed(
  run: () => Promise<boolean[]>,
): Promise<{ perSecond: number; seconds: number; ok: number }> {
  const started = performance.now();
  const outcomes = await run();
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: images / seconds, seconds, ok: outcomes.filter(Boolean).length };
}

const report = new Report(
  'batch',
  'A batch beside pipelines on the local cloud',
  `${images} images, each a photo of its own, against \`startLocalCloud\` with darknet-tiny: as pipelines one at a ` +
    `time, as pipelines ${concurrency} at a time (each polled every ${pollMs} ms), and as one batch of their keys ` +
    `(\`POST /v1/batches\`: a Distributed Map with MaxConcurrency ${concurrency}, polled every ${pollMs} ms).`,
);
const cloud = await startBenchCloud();
try {
  const keys: string[] = [];
  for (let n = 0; n < 3 * images + 2; n++) keys.push(await upload(cloud, distinctPhoto(10_000 + n)));
  // Warm-up: the first pipelines load the providers and JIT-compile the path.
  for (const key of keys.splice(0, 2)) await pipeline(cloud, key);

  const alone = await timed(async () => {
    const outcomes: boolean[] = [];
    for (const key of keys.splice(0, images)) outcomes.push(await pipeline(cloud, key));
    return outcomes;
  });
  const parallel = await timed(async () => {
    const queue = keys.splice(0, images);
    const outcomes: boolean[] = [];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (queue.length > 0) outcomes.push(await pipeline(cloud, queue.shift()!));
      }),
    );
    return outcomes;
  });
  const batch = await timed(async () => {
    const { batchId } = await json(cloud, '/v1/batches', { keys: keys.splice(0, images) });
    const status = await ended(cloud, `/v1/batches/${String(batchId)}`);
    const counts = status.counts as { complete: number };
    return Array.from({ length: images }, (_, index) => index < counts.complete);
  });

  const row = (label: string, run: typeof alone) => [
    label,
    String(images),
    `${run.seconds.toFixed(1)} s`,
    perSecond(run.perSecond),
    String(run.ok),
  ];
  report.table(
    'Images through the pipeline (time: the first start request → the last status seen ended)',
    ['', 'images', 'time', 'images/s', 'complete'],
    [
      row('pipelines, one at a time', alone),
      row(`pipelines, ${concurrency} at a time`, parallel),
      row(`one batch (MaxConcurrency ${concurrency})`, batch),
    ],
  );
  report.target(
    `one batch: images/s ÷ ${concurrency} pipelines at a time`,
    batch.perSecond / parallel.perSecond,
    1,
    ratio,
    {
      atLeast: true,
      evidence:
        'A batch runs the same pipeline per image, in the same process; what it saves is the clients: one ' +
        'request starts every image and one poll follows them all, where the pipelines are started and polled ' +
        'one request each.',
    },
  );
  report.target('every image complete', Math.min(alone.ok, parallel.ok, batch.ok), images, String, {
    atLeast: true,
  });
} finally {
  await cloud.close();
}
report.finish();
