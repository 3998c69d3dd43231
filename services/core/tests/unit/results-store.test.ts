import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import {
  buildResultRecord,
  createDynamoDbClient,
  InvalidPageTokenError,
  loadConfig,
  RecordExistsError,
  resultsTableDefinition,
  ResultsStore,
  type ResultRecord,
} from '../../src/index.ts';

// The results store on a real DynamoDB wire protocol (dynalite, in memory), with the table laid out as infra
// and the local cloud create it.

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
let client: DynamoDBClient;
let tableCount = 0;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = createDynamoDbClient(loadConfig({ DYNAMODB_ENDPOINT: endpoint }));
});

afterAll(async () => {
  client?.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A store on a table of its own, so each test sees only its records. */
async function freshStore(): Promise<ResultsStore> {
  const tableName = `results-${++tableCount}`;
  await client.send(new CreateTableCommand(resultsTableDefinition(tableName)));
  return new ResultsStore(client, tableName);
}

function recordAt(requestId: string, createdAt: string): ResultRecord {
  return buildResultRecord({
    requestId,
    imageKey: `images/${requestId}.jpg`,
    source: 'analysis',
    results: { sagemaker: { model: 'resnet18', labels: [{ label: 'pelican', score: 0.9 }], latencyMs: 5 } },
    errors: { azure: { code: 'ProviderThrottled', message: 'azure: throttled (429)' } },
    ttlDays: 30,
    now: new Date(createdAt),
  });
}

describe('ResultsStore', () => {
  it('stores a record and reads it back as it was', async () => {
    const store = await freshStore();
    const record = recordAt('req-1', '2026-06-01T12:00:00.000Z');
    await store.create(record);
    expect(await store.get('req-1')).toEqual(record);
    expect(await store.get('req-never')).toBeUndefined();
  });

  it('refuses a second record under the same requestId, keeping the first', async () => {
    const store = await freshStore();
    const first = recordAt('req-1', '2026-06-01T12:00:00.000Z');
    await store.create(first);
    const second = recordAt('req-1', '2026-06-02T12:00:00.000Z');
    await expect(store.create(second)).rejects.toBeInstanceOf(RecordExistsError);
    await expect(store.create(second)).rejects.toThrow('a result for requestId req-1 already exists');
    expect(await store.get('req-1')).toEqual(first);
  });

  it('lists newest first, page by page, until there is no next page', async () => {
    const store = await freshStore();
    const days = ['01', '05', '03', '04', '02'];
    for (const day of days) await store.create(recordAt(`req-${day}`, `2026-06-${day}T12:00:00.000Z`));

    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await store.list(2, nextToken);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.requestId));
      nextToken = page.nextToken;
      pages += 1;
    } while (nextToken && pages < 10);

    expect(seen).toEqual(['req-05', 'req-04', 'req-03', 'req-02', 'req-01']);
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it('refuses a page token it did not issue', async () => {
    const store = await freshStore();
    for (const day of ['01', '02', '03'])
      await store.create(recordAt(`req-${day}`, `2026-06-${day}T12:00:00.000Z`));
    const { nextToken } = await store.list(1);
    expect(nextToken).toBeDefined();
    const key = JSON.parse(Buffer.from(nextToken!, 'base64url').toString('utf8')) as Record<string, string>;
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    for (const token of [
      'not-base64-json',
      encode(['an', 'array']),
      encode(null),
      encode({ ...key, extra: 'attribute' }), // more than the index key
      encode({ ...key, createdAt: 7 }), // wrong type
      encode({ requestId: key.requestId }), // missing attributes
    ]) {
      await expect(store.list(1, token)).rejects.toBeInstanceOf(InvalidPageTokenError);
    }
    // The genuine token still works.
    expect((await store.list(1, nextToken)).items.map((item) => item.requestId)).toEqual(['req-02']);
  });
});
