import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, loadConfig, type Config } from '@mc-vision/core';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { fixtureImagePath, type FixtureImage } from '@mc-vision/assets';

export function fixtureImage(name: FixtureImage): Uint8Array {
  return new Uint8Array(readFileSync(fixtureImagePath(name)));
}

export interface LocalS3 {
  config: Config;
  s3: S3Client;
  put(key: string, body: Uint8Array, contentType?: string): Promise<void>;
  close(): Promise<void>;
}

/** An s3rver on loopback holding the images bucket, and a configuration (and real S3 client) pointed at it. */
export async function startLocalS3(): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), 'mcv-worker-s3-'));
  const config = loadConfig({});
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: config.IMAGES_BUCKET }],
  });
  const { port } = await server.run();
  const localConfig = loadConfig({ S3_ENDPOINT: `http://127.0.0.1:${port}` });
  const s3 = createS3Client(localConfig);
  return {
    config: localConfig,
    s3,
    async put(key, body, contentType) {
      await s3.send(
        new PutObjectCommand({
          Bucket: localConfig.IMAGES_BUCKET,
          Key: key,
          Body: body,
          ContentType: contentType,
        }),
      );
    },
    async close() {
      s3.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
