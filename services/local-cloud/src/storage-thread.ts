import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { startDynamoDb } from './dynamodb.ts';
import { startSns } from './notifications.ts';
import { startS3, type S3Event } from './s3.ts';
import type { Component } from './server.ts';
import type { Credentials } from './sigv4.ts';

// DynamoDB (dynalite), S3 (s3rver) and SNS with SQS (fauxqs) on a worker thread of their own. They are
// third-party servers that only answer HTTP and need nothing from the rest of the local cloud, which hears
// from them only S3's ObjectCreated events (posted back). On their own event loop they answer while the main
// loop runs the API, Step Functions and the tasks: a pipeline's dozen storage calls no longer queue behind
// everything else, and the local cloud uses a second core.

export interface StorageOptions {
  dynamodb: { dir: string };
  s3: { dir: string; bucket: string; region: string };
  /** Only DynamoDB and S3 requests signed with these are served. */
  credentials: Credentials;
  /** Receives the ObjectCreated notifications for objects under `images/`, on the main thread. */
  onObjectCreated(event: S3Event): void;
}

const names = ['dynamodb', 's3', 'sns'] as const;
type Name = (typeof names)[number];
type Described = Pick<Component, 'name' | 'url' | 'description'>;

type FromStorage =
  | { type: 'ready'; components: Described[] }
  | { type: 'failed'; message: string }
  | { type: 'event'; event: S3Event }
  | { type: 'closed'; name: Name; error?: string };

/**
 * Starts the three servers on a worker thread; resolves with their components (DynamoDB, S3, SNS: start in
 * that order so they stop the other way round). Each one's `close` stops its server; the thread ends with
 * the last.
 */
export async function startStorage(options: StorageOptions): Promise<Record<Name, Component>> {
  const { onObjectCreated, ...setup } = options;
  const worker = new Worker(new URL(import.meta.url), { workerData: setup });
  const closing = new Map<Name, PromiseWithResolvers<void>>();
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
    if (closing.size < names.length) throw new Error(`the storage thread stopped (exit code ${code})`);
  });
  // Closing one server twice waits for the first close.
  const close = async (name: Name) => {
    const already = closing.get(name);
    if (already) return already.promise;
    if (exited) return;
    const waiting = Promise.withResolvers<void>();
    closing.set(name, waiting);
    worker.postMessage(name);
    try {
      await waiting.promise;
    } finally {
      if (closing.size === names.length) await worker.terminate();
    }
  };
  const byName = (name: Name): Component => {
    const described = components.find((component) => component.name === name)!;
    return { ...described, close: () => close(name) };
  };
  return { dynamodb: byName('dynamodb'), s3: byName('s3'), sns: byName('sns') };
}

async function serveStorage(port: NonNullable<typeof parentPort>): Promise<void> {
  const setup = workerData as Omit<StorageOptions, 'onObjectCreated'>;
  const post = (message: FromStorage) => port.postMessage(message);
  const started: Component[] = [];
  try {
    started.push(await startDynamoDb({ dir: setup.dynamodb.dir, credentials: setup.credentials }));
    started.push(
      await startS3({
        ...setup.s3,
        credentials: setup.credentials,
        onObjectCreated: (event) => post({ type: 'event', event }),
      }),
    );
    started.push(await startSns());
  } catch (error) {
    await Promise.allSettled(started.map((component) => component.close()));
    post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    return;
  }
  port.on('message', (name: Name) => {
    const component = started.find((candidate) => candidate.name === name);
    void Promise.resolve(component?.close()).then(
      () => post({ type: 'closed', name }),
      (error: unknown) => post({ type: 'closed', name, error: String(error) }),
    );
  });
  post({
    type: 'ready',
    components: started.map(({ name, url, description }) => ({ name, url, description })),
  });
}

if (!isMainThread && parentPort && (workerData as { s3?: unknown } | undefined)?.s3) {
  await serveStorage(parentPort);
}
