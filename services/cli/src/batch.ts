import {
  batchItemsResponseSchema,
  batchStatusResponseSchema,
  type BatchItem,
  type BatchStatusResponse,
} from '@mc-vision/core/batches';
import { resultRecordSchema } from '@mc-vision/core/schemas';
import { SingleBar } from 'cli-progress';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Client } from './client.ts';
import { scanFolder, type FolderImage } from './folder.ts';

// `mcv batch <folder>`: upload the folder's images (a few at a time), start one batch of them, show its progress
// until it ends, print a summary and write every item's result as one JSON line. `mcv retry <batchId>` does the
// same for the images of a batch's failed items, as a new batch.

export interface BatchOptions {
  out: string;
  requestId?: string;
  providers?: string[];
  /** Uploads (and record reads) at a time. */
  concurrency: number;
  /** Milliseconds between progress polls. */
  pollMs: number;
}

export interface Output {
  out: (line: string) => void;
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

/** What one JSON line says of an image besides its item: the file it came from. */
type LineSource = { file: string; copies?: string[] };

async function inPool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      while (queue.length > 0) await work(queue.shift()!);
    }),
  );
}

export async function runFolderBatch(
  api: Client,
  folder: string,
  options: BatchOptions,
  output: Output,
): Promise<BatchStatusResponse> {
  const scan = await scanFolder(folder);
  for (const { file, reason } of scan.skipped) output.out(`skipping ${file}: ${reason}`);
  if (scan.images.length === 0) throw new Error(`no images in ${folder}`);

  const keyOf = new Map<FolderImage, string>();
  await inPool(scan.images, options.concurrency, async (image) => {
    keyOf.set(image, (await api.upload(await readFile(image.path), image.contentType)).key);
  });
  output.out(`uploaded ${plural(scan.images.length, 'image')}`);
  // In the folder's order: the batch's items and the JSON lines follow it.
  const keys = scan.images.map((image) => keyOf.get(image)!);
  const sources = new Map<string, LineSource>(
    scan.images.map((image) => [
      keyOf.get(image)!,
      { file: image.file, ...(image.copies.length > 0 ? { copies: image.copies } : {}) },
    ]),
  );
  return runKeysBatch(api, keys, sources, options, output);
}

/** A new batch of the images of a batch's failed items. */
export async function retryFailed(
  api: Client,
  batchId: string,
  options: BatchOptions,
  output: Output,
): Promise<BatchStatusResponse> {
  const failed = await allItems(api, batchId, 'failed');
  if (failed.length === 0) throw new Error(`batch ${batchId} has no failed items`);
  output.out(`${plural(failed.length, 'failed item')} of batch ${batchId}`);
  return runKeysBatch(
    api,
    failed.map((item) => item.key),
    new Map(),
    options,
    output,
  );
}

async function runKeysBatch(
  api: Client,
  keys: string[],
  sources: Map<string, LineSource>,
  options: BatchOptions,
  output: Output,
): Promise<BatchStatusResponse> {
  const started = await api.json<{ batchId: string }>('POST', '/v1/batches', {
    keys,
    ...(options.requestId ? { requestId: options.requestId } : {}),
    ...(options.providers ? { providers: options.providers } : {}),
  });
  const batchId = started.body.batchId;
  output.out(`batch ${batchId} started`);

  const status = await watch(api, batchId, keys.length, options, output);
  const { counts } = status;
  output.out(
    `batch ${batchId} ${status.status}: ${counts.complete} complete, ${counts.partial} partial, ` +
      `${counts.failed} failed of ${counts.total}` +
      (status.error ? ` (${status.error.message})` : ''),
  );
  await writeResults(api, batchId, keys, sources, options);
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

/** Every item of the batch (of one status), page by page. */
async function allItems(api: Client, batchId: string, status?: string): Promise<BatchItem[]> {
  const items: BatchItem[] = [];
  let token: string | undefined;
  do {
    const query = new URLSearchParams({
      limit: '100',
      ...(status ? { status } : {}),
      ...(token ? { nextToken: token } : {}),
    });
    const page = batchItemsResponseSchema.parse(
      (await api.json('GET', `/v1/batches/${batchId}/items?${query}`)).body,
    );
    items.push(...page.items);
    token = page.nextToken;
  } while (token);
  return items;
}

/** One line per image, in the batch's order: where it came from, its key, its item's status and its full record. */
async function writeResults(
  api: Client,
  batchId: string,
  keys: string[],
  sources: Map<string, LineSource>,
  options: BatchOptions,
): Promise<void> {
  const items = new Map((await allItems(api, batchId)).map((item) => [item.key, item]));
  const records = new Map<string, unknown>();
  await inPool([...items.values()], options.concurrency, async (item) => {
    const record = resultRecordSchema.parse((await api.json('GET', `/v1/results/${item.requestId}`)).body);
    records.set(item.key, record);
  });
  const stream = createWriteStream(options.out);
  for (const key of keys) {
    const item = items.get(key);
    const line = {
      ...sources.get(key),
      key,
      ...(item
        ? { requestId: item.requestId, status: item.status, record: records.get(key) }
        : { status: 'no record' }),
    };
    if (!stream.write(`${JSON.stringify(line)}\n`)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;
