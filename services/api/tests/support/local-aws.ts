import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  createDynamoDbClient,
  createS3Client,
  loadConfig,
  resultsTableDefinition,
  type Config,
} from '@mc-vision/core';
import dynalite from 'dynalite';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { fixtureImagePath, type FixtureImage } from '@mc-vision/assets';

export const fixtureImage = (name: FixtureImage) => readFileSync(fixtureImagePath(name));

export const defaults = loadConfig({});

/** The results table as the platform lays it out (`resultsTable`), in whatever DynamoDB the client reaches. */
export async function createResultsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(new CreateTableCommand(resultsTableDefinition(tableName)));
}

export interface LocalAws {
  /** Endpoint settings for `loadConfig`. */
  env: Record<string, string>;
  /** A fresh folder for the test's DATA_DIR. */
  dataDir: string;
  /** Real SDK clients on the emulators (for arranging and checking state). */
  clients(config: Config): { s3: S3Client; dynamodb: DynamoDBClient };
  close(): Promise<void>;
}

/** DynamoDB (dynalite, in memory) with the results table and S3 (s3rver) with the images bucket, on loopback. */
export async function startLocalAws(): Promise<LocalAws> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mcv-api-test-'));
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', resolve));
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: join(dataDir, 's3'),
    configureBuckets: [{ name: defaults.IMAGES_BUCKET }],
  });
  const { port: s3Port } = await s3rver.run();
  const env = {
    DYNAMODB_ENDPOINT: `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`,
    S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
  };
  const made: { destroy(): void }[] = [];
  const clients = (config: Config) => {
    const s3 = createS3Client(config);
    const dynamodb = createDynamoDbClient(config);
    made.push(s3, dynamodb);
    return { s3, dynamodb };
  };
  const { dynamodb } = clients(loadConfig(env));
  await createResultsTable(dynamodb, defaults.RESULTS_TABLE);
  return {
    env,
    dataDir,
    clients,
    async close() {
      made.forEach((client) => client.destroy());
      await s3rver.close();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
