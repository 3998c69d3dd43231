import { afterAll, describe, expect, it } from '@jest/globals';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ListTopicsCommand } from '@aws-sdk/client-sns';
import { createDynamoDbClient, createS3Client, createSnsClient, loadConfig } from '@mc-vision/core';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Event } from '../src/s3.ts';
import { startStorage } from '../src/storage-thread.ts';
import { pelican, tempDir } from './support.ts';

// DynamoDB, S3 and SNS run on a thread of their own: they answer the real SDK clients as they did on the
// main thread, S3's ObjectCreated events come back to the main thread, a start that fails says why, and
// closing them stops the servers.

// s3rver knows one access key id, S3RVER: the local cloud's is that, with a secret of its own.
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'storage-test-secret' };
const bucket = 'mc-vision-images';

describe('the storage thread', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    const { rm } = await import('node:fs/promises');
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('serves DynamoDB, S3 and SNS, passes S3 events back, and stops each server on close', async () => {
    const dir = await tempDir('storage');
    dirs.push(dir);
    const events: S3Event[] = [];
    const storage = await startStorage({
      dynamodb: { dir: join(dir, 'dynamodb') },
      s3: { dir: join(dir, 's3'), bucket, region: 'us-east-1' },
      credentials,
      onObjectCreated: (event) => events.push(event),
    });
    expect(Object.values(storage).map(({ name, description }) => [name, description])).toEqual([
      ['dynamodb', 'dynalite'],
      ['s3', `s3rver, bucket ${bucket}`],
      ['sns', 'fauxqs'],
    ]);
    const config = loadConfig({
      DYNAMODB_ENDPOINT: storage.dynamodb.url,
      S3_ENDPOINT: storage.s3.url,
      SNS_ENDPOINT: storage.sns.url,
      EMULATOR_ACCESS_KEY_ID: credentials.accessKeyId,
      EMULATOR_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    });
    const dynamodb = createDynamoDbClient(config);
    const s3 = createS3Client(config);
    const sns = createSnsClient(config);
    try {
      expect((await dynamodb.send(new ListTablesCommand({}))).TableNames).toEqual([]);
      expect((await sns.send(new ListTopicsCommand({}))).Topics ?? []).toEqual([]);
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'images/a b.jpg',
          Body: pelican,
          ContentType: 'image/jpeg',
        }),
      );
      const deadline = Date.now() + 5_000;
      while (events.length === 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(events).toHaveLength(1);
      expect(events[0]!.Records[0]).toMatchObject({
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: bucket }, object: { key: 'images/a+b.jpg', size: pelican.length } },
      });
      // Still guarded on its thread: a request signed with other credentials is refused.
      const stranger = createDynamoDbClient({ ...config, EMULATOR_SECRET_ACCESS_KEY: 'not-the-secret' });
      await expect(stranger.send(new ListTablesCommand({}))).rejects.toMatchObject({
        name: 'InvalidSignatureException',
      });
      stranger.destroy();
      for (const component of [storage.sns, storage.s3, storage.dynamodb]) {
        await component.close();
        await expect(fetch(component.url)).rejects.toThrow();
      }
    } finally {
      dynamodb.destroy();
      s3.destroy();
      sns.destroy();
      // Whatever a failure above left running (a second close waits for the first).
      await Promise.all(Object.values(storage).map((component) => component.close()));
    }
  }, 30_000);

  it('rejects with the reason when a server cannot start', async () => {
    const dir = await tempDir('storage-bad');
    dirs.push(dir);
    // S3's folder is a file: s3rver cannot make the bucket in it.
    await writeFile(join(dir, 's3'), 'not a folder');
    const outcome = await startStorage({
      dynamodb: { dir: join(dir, 'dynamodb') },
      s3: { dir: join(dir, 's3'), bucket, region: 'us-east-1' },
      credentials,
      onObjectCreated: () => undefined,
    }).then(
      async (storage) => {
        await Promise.all(Object.values(storage).map((component) => component.close()));
        return 'started';
      },
      (error: Error) => error.message,
    );
    expect(outcome).toMatch(/ENOTDIR|EEXIST|not a directory/);
  }, 30_000);
});
