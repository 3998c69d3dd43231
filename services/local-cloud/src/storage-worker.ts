import { parentPort, workerData } from 'node:worker_threads';
import { startDynamoDb } from './dynamodb.ts';
import { startS3 } from './s3.ts';
import type { Component } from './server.ts';
import { startSns } from './sns.ts';
import type { FromStorage, StorageName, StorageSetup } from './storage-thread.ts';

// The storage thread (started by storage-thread.ts): starts dynalite, s3rver and fauxqs, reports their
// addresses, posts S3's events, and closes each server when its name is sent.

async function serveStorage(port: NonNullable<typeof parentPort>): Promise<void> {
  const setup = workerData as StorageSetup;
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
  port.on('message', (name: StorageName) => {
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

if (parentPort) await serveStorage(parentPort);
