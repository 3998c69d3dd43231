import { Worker } from 'node:worker_threads';
import type { S3Event } from './s3.ts';
import type { Component } from './server.ts';
import type { Credentials } from './sigv4.ts';

// DynamoDB (dynalite), S3 (s3rver) and SNS with SQS (fauxqs) on a worker thread of their own (storage-worker.ts,
// the only module that loads them). They are third-party servers that only answer HTTP and need nothing from
// the rest of the local cloud, which hears from them only S3's ObjectCreated events (posted back). On their own
// event loop they answer while the main loop runs the API, Step Functions and the tasks: a pipeline's dozen
// storage calls no longer queue behind everything else, and the local cloud uses a second core.

export interface StorageOptions {
  dynamodb: { dir: string };
  s3: { dir: string; bucket: string; region: string };
  /** Only DynamoDB and S3 requests signed with these are served. */
  credentials: Credentials;
  /** Receives the ObjectCreated notifications for objects under `images/`, on the main thread. */
  onObjectCreated(event: S3Event): void;
}

/** What the storage thread is started with. */
export type StorageSetup = Omit<StorageOptions, 'onObjectCreated'>;

const storageNames = ['dynamodb', 's3', 'sns'] as const;
export type StorageName = (typeof storageNames)[number];
type Described = Pick<Component, 'name' | 'url' | 'description'>;

/** What the storage thread posts; it is sent the name of a server to close. */
export type FromStorage =
  | { type: 'ready'; components: Described[] }
  | { type: 'failed'; message: string }
  | { type: 'event'; event: S3Event }
  | { type: 'closed'; name: StorageName; error?: string };

/**
 * Starts the three servers on a worker thread; resolves with their components (DynamoDB, S3, SNS: start in
 * that order so they stop the other way round). Each one's `close` stops its server; the thread ends with
 * the last.
 */
export async function startStorage(options: StorageOptions): Promise<Record<StorageName, Component>> {
  const { onObjectCreated, ...rest } = options;
  const setup: StorageSetup = rest;
  const worker = new Worker(new URL('./storage-worker.ts', import.meta.url), { workerData: setup });
  const closing = new Map<StorageName, PromiseWithResolvers<void>>();
  let exited = false;
  const ready = new Promise<Described[]>((resolve, reject) => {
    worker.on('message', (message: FromStorage) => {
      if (message.type === 'ready') resolve(message.components);
      else if (message.type === 'failed') reject(new Error(message.message));
      else if (message.type === 'event') onObjectCreated(message.event);
      else {
        const waiting = closing.get(message.name);
        if (message.error) waiting?.reject(new Error(message.error));
        else waiting?.resolve();
      }
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      exited = true;
      reject(new Error(`the storage thread stopped as it started (exit code ${code})`));
      for (const waiting of closing.values()) waiting.resolve(); // nothing left to stop
    });
  });
  let components: Described[];
  try {
    components = await ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  // From now on a failure there is what it was when these servers ran on the main thread: an uncaught error
  // that ends the process (a Worker's 'error' with no listener is thrown), not storage silently gone.
  worker.removeAllListeners('error');
  worker.on('exit', (code) => {
    if (closing.size < storageNames.length) throw new Error(`the storage thread stopped (exit code ${code})`);
  });
  // Closing one server twice waits for the first close.
  const close = async (name: StorageName) => {
    const already = closing.get(name);
    if (already) return already.promise;
    if (exited) return;
    const waiting = Promise.withResolvers<void>();
    closing.set(name, waiting);
    worker.postMessage(name);
    try {
      await waiting.promise;
    } finally {
      if (closing.size === storageNames.length) await worker.terminate();
    }
  };
  const byName = (name: StorageName): Component => {
    const described = components.find((component) => component.name === name)!;
    return { ...described, close: () => close(name) };
  };
  return { dynamodb: byName('dynamodb'), s3: byName('s3'), sns: byName('sns') };
}
