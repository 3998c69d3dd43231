import { batchItemSchema, batchStatusResponseSchema, type BatchStatusResponse } from '@mc-vision/core/batches';
import { SingleBar } from 'cli-progress';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Client } from './client.ts';
import { scanFolder, type FolderImage } from './folder.ts';

// `mcv batch <folder>`: upload the folder's images (a few at a time), start one batch of them, show its progress
// until it ends, print a summary and write every item's result as one JSON line.

export interface BatchOptions {
  out: string;
  requestId?: string;
  providers?: string[];
  /** Uploads at a time. */
  concurrency: number;
  /** Milliseconds between progress polls. */
  pollMs: number;
}

export interface Output {
  out: (line: string) => void;
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

async function inPool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      while (queue.length > 0) await work(queue.shift()!);
    }),
  );
}

export async function runBatch(api: Client, folder: string, options: BatchOptions, output: Output): Promise<BatchStatusResponse> {
  const scan = await scanFolder(folder);
  for (const { file, reason } of scan.skipped) output.out(`skipping ${file}: ${reason}`);
  if (scan.images.length === 0) throw new Error(`no images in ${folder}`);

  const keys = new Map<FolderImage, string>();
  await inPool(scan.images, options.concurrency, async (image) => {
    keys.set(image, (await api.upload(image.bytes, image.contentType)).key);
  });
  output.out(`uploaded ${scan.images.length} image${scan.images.length === 1 ? '' : 's'}`);

  const started = await api.json<{ batchId: string }>('POST', '/v1/batches', {
    keys: scan.images.map((image) => keys.get(image)!),
    ...(options.requestId ? { requestId: options.requestId } : {}),
    ...(options.providers ? { providers: options.providers } : {}),
  });
  const batchId = started.body.batchId;
  output.out(`batch ${batchId} started`);

  const status = await watch(api, batchId, scan.images.length, options, output);
  const { counts } = status;
  output.out(
    `batch ${batchId} ${status.status}: ${counts.complete} complete, ${counts.partial} partial, ` +
      `${counts.failed} failed of ${counts.total}` + (status.error ? ` (${status.error.message})` : ''),
  );
  await writeResults(api, batchId, scan.images, keys, options.out);
  output.out(`results: ${options.out}`);
  return status;
}

/** Polls the batch with a progress bar (done/total, rate, ETA, failures) until it ends. */
async function watch(api: Client, batchId: string, total: number, options: BatchOptions, output: Output) {
  const bar = new SingleBar({
    stream: output.err,
    format: 'batch |{bar}| {value}/{total} done | {rate}/s | ETA {eta_formatted} | {failed} failed',
    hideCursor: true,
    noTTYOutput: true,
    notTTYSchedule: 2_000,
  });
  const started = Date.now();
  bar.start(total, 0, { rate: '0.0', failed: 0 });
  try {
    for (;;) {
      const status = batchStatusResponseSchema.parse((await api.json('GET', `/v1/batches/${batchId}`)).body);
      const done = status.counts.complete + status.counts.partial + status.counts.failed;
      const seconds = (Date.now() - started) / 1000;
      bar.setTotal(Math.max(status.counts.total, 1));
      bar.update(done, { rate: (done / Math.max(seconds, 0.001)).toFixed(1), failed: status.counts.failed });
      if (status.status !== 'RUNNING') return status;
      await new Promise((resolve) => setTimeout(resolve, options.pollMs));
    }
  } finally {
    bar.stop();
  }
}

/** One line per file of the folder: its key, its item (status, labels) and its full record. */
async function writeResults(
  api: Client,
  batchId: string,
  images: FolderImage[],
  keys: Map<FolderImage, string>,
  out: string,
): Promise<void> {
  const items = new Map<string, unknown>();
  let token: string | undefined;
  do {
    const page = (await api.json('GET', `/v1/batches/${batchId}/items?limit=100${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`))
      .body as { items: unknown[]; nextToken?: string };
    for (const raw of page.items) {
      const item = batchItemSchema.parse(raw);
      items.set(item.key, item);
    }
    token = page.nextToken;
  } while (token);
  const stream = createWriteStream(out);
  const records = new Map<string, unknown>();
  await inPool([...items.values()] as { key: string; requestId: string }[], 8, async (item) => {
    records.set(item.key, (await api.json('GET', `/v1/results/${item.requestId}`)).body);
  });
  for (const image of images) {
    const key = keys.get(image)!;
    const item = items.get(key) as { requestId: string; status: string } | undefined;
    const line = {
      file: image.file,
      ...(image.copies.length > 0 ? { copies: image.copies } : {}),
      key,
      ...(item ? { requestId: item.requestId, status: item.status, record: records.get(key) } : { status: 'no record' }),
    };
    if (!stream.write(`${JSON.stringify(line)}\n`)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}
