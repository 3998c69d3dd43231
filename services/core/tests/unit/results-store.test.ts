import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateTableCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import {
  buildResultRecord,
  createDynamoDbClient,
  InvalidPageTokenError,
  loadConfig,
  pipelineSaveCondition,
  RecordExistsError,
  resultsTableDefinition,
  ResultsStore,
  toResultItem,
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

describe('claims on a requestId', () => {
  const now = new Date('2026-06-01T12:00:00.000Z');
  const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);
  const analysisClaim = {
    source: 'analysis',
    imageKey: 'images/a.jpg',
    ttlDays: 1,
    holdSeconds: 60,
  } as const;
  const pipelineClaim = { source: 'pipeline', imageKey: 'images/a.jpg', ttlDays: 1 } as const;

  it('lets one claim win; the next one learns what holds the requestId', async () => {
    const store = await freshStore();
    expect(await store.claim('req-1', pipelineClaim, now)).toBeUndefined();
    expect(await store.claim('req-1', analysisClaim, now)).toEqual({
      claim: { source: 'pipeline', imageKey: 'images/a.jpg' },
    });
    expect(await store.claim('req-1', pipelineClaim, now)).toEqual({
      claim: { source: 'pipeline', imageKey: 'images/a.jpg' },
    });
  });

  it('is no record: neither get nor list shows a claim', async () => {
    const store = await freshStore();
    await store.claim('req-claimed', analysisClaim, now);
    await store.create(recordAt('req-stored', '2026-06-01T12:00:00.000Z'));
    expect(await store.get('req-claimed')).toBeUndefined();
    expect((await store.list(10)).items.map((item) => item.requestId)).toEqual(['req-stored']);
  });

  it("lets an analysis's claim lapse after its hold, never a pipeline's", async () => {
    const store = await freshStore();
    await store.claim('req-analysis', analysisClaim, now);
    expect(await store.claim('req-analysis', pipelineClaim, later(59))).toEqual({
      claim: { source: 'analysis', imageKey: 'images/a.jpg' },
    });
    expect(await store.claim('req-analysis', pipelineClaim, later(61))).toBeUndefined();
    expect(await store.claim('req-analysis', analysisClaim, later(86_000))).toEqual({
      claim: { source: 'pipeline', imageKey: 'images/a.jpg' },
    });
  });

  it('gives way to the record, which no claim replaces', async () => {
    const store = await freshStore();
    const record = recordAt('req-1', '2026-06-01T12:00:00.000Z');
    await store.claim('req-1', analysisClaim, now);
    await store.create(record);
    expect(await store.get('req-1')).toEqual(record);
    expect(await store.claim('req-1', pipelineClaim, later(3600))).toEqual({ record });
  });
});

describe("the pipeline's SaveResult condition", () => {
  const pipelineRecord = (imageKey: string) =>
    buildResultRecord({ requestId: 'req-1', imageKey, source: 'pipeline', results: {}, ttlDays: 1 });

  /** SaveResult's PutItem as Step Functions sends it for an execution of `images/a.jpg`. */
  async function save(tableName: string): Promise<'saved' | string> {
    try {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: toResultItem(pipelineRecord('images/a.jpg')),
          ...pipelineSaveCondition,
          ExpressionAttributeValues: {
            ...pipelineSaveCondition.ExpressionAttributeValues,
            ':imageKey': { S: 'images/a.jpg' },
          },
        }),
      );
      return 'saved';
    } catch (error) {
      return (error as Error).name;
    }
  }

  async function storeWith(arrange: (store: ResultsStore) => Promise<unknown>) {
    const store = await freshStore();
    await arrange(store);
    return save(`results-${tableCount}`);
  }

  it('writes where nothing is, over its own claim, and over its own record of the same image', async () => {
    expect(await storeWith(async () => {})).toBe('saved');
    expect(
      await storeWith((store) =>
        store.claim('req-1', { source: 'pipeline', imageKey: 'images/a.jpg', ttlDays: 1 }),
      ),
    ).toBe('saved');
    expect(await storeWith((store) => store.create(pipelineRecord('images/a.jpg')))).toBe('saved');
  });

  it("never replaces an analysis's claim or record, nor anything for another image", async () => {
    const conflict = 'ConditionalCheckFailedException';
    expect(
      await storeWith((store) =>
        store.claim('req-1', { source: 'analysis', imageKey: 'images/a.jpg', ttlDays: 1, holdSeconds: 60 }),
      ),
    ).toBe(conflict);
    expect(
      await storeWith((store) =>
        store.create(
          buildResultRecord({
            requestId: 'req-1',
            imageKey: 'images/a.jpg',
            source: 'analysis',
            results: {},
            ttlDays: 1,
          }),
        ),
      ),
    ).toBe(conflict);
    expect(
      await storeWith((store) =>
        store.claim('req-1', { source: 'pipeline', imageKey: 'images/b.jpg', ttlDays: 1 }),
      ),
    ).toBe(conflict);
    expect(await storeWith((store) => store.create(pipelineRecord('images/b.jpg')))).toBe(conflict);
  });
});
