import {
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  QueryCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { BatchItem } from './batches.ts';
import { InvalidPageTokenError } from './errors.ts';
import { fromResultItem, resultsTable } from './results-store.ts';
import {
  providerNames,
  resultStatusSchema,
  type ProviderName,
  type ResultRecord,
  type ResultStatus,
} from './schemas.ts';

// A batch's records, through the results table's `byBatch` index: counted by status (what the API's counts and
// the batch's summary say) and paged by image key (what GET /v1/batches/{id}/items lists).

/** What a batch's records say: how many of each status, each provider's error codes, the failed items. */
export interface BatchTally {
  complete: number;
  partial: number;
  failed: number;
  /** Per provider, how many records have each error code. */
  providerErrors: Partial<Record<ProviderName, Record<string, number>>>;
  /** The first failed items (requestIds, in key order), at most `failedSample`. */
  failedItems: { requestId: string; errors: Partial<Record<ProviderName, string>> }[];
}

const failedSample = 10;

const indexedItemSchema = z.object({
  requestId: z.string(),
  status: resultStatusSchema,
  errors: z.partialRecord(z.enum(providerNames), z.object({ code: z.string() }).loose()).optional(),
});

function errorCodes(
  errors: z.infer<typeof indexedItemSchema>['errors'],
): Partial<Record<ProviderName, string>> {
  return Object.fromEntries(Object.entries(errors ?? {}).map(([provider, error]) => [provider, error.code]));
}

/** A record as an item of its batch: key, status, top three labels, error codes. */
export function toBatchItem(record: ResultRecord): BatchItem {
  return {
    requestId: record.requestId,
    key: record.imageKey,
    status: record.status,
    labels: (record.results.sagemaker?.labels ?? []).slice(0, 3),
    ...(record.errors ? { errors: errorCodes(record.errors) } : {}),
  };
}

export class BatchRecords {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.client = client;
    this.tableName = tableName;
  }

  /** Counts every record of the batch (the index holds a few hundred bytes per record). */
  async tally(batchId: string): Promise<BatchTally> {
    const tally: BatchTally = { complete: 0, partial: 0, failed: 0, providerErrors: {}, failedItems: [] };
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.query(batchId, { start });
      for (const raw of page.Items ?? []) {
        const item = indexedItemSchema.parse(unmarshall(raw));
        tally[item.status] += 1;
        for (const [provider, code] of Object.entries(errorCodes(item.errors)) as [ProviderName, string][]) {
          const codes = (tally.providerErrors[provider] ??= {});
          codes[code] = (codes[code] ?? 0) + 1;
        }
        if (item.status === 'failed' && tally.failedItems.length < failedSample) {
          tally.failedItems.push({ requestId: item.requestId, errors: errorCodes(item.errors) });
        }
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return tally;
  }

  /** A page of the batch's items in key order, optionally only those of one status. */
  async page(
    batchId: string,
    options: { limit: number; nextToken?: string; status?: ResultStatus },
  ): Promise<{ items: BatchItem[]; nextToken?: string }> {
    const requestIds: string[] = [];
    let start = options.nextToken ? decodeToken(options.nextToken, batchId) : undefined;
    // A filtered query can answer fewer items than asked for: read on until the page is full.
    do {
      const page = await this.query(batchId, {
        start,
        limit: options.limit - requestIds.length,
        ...(options.status ? { status: options.status } : {}),
      });
      for (const raw of page.Items ?? []) requestIds.push(String(unmarshall(raw).requestId));
      start = page.LastEvaluatedKey;
    } while (start && requestIds.length < options.limit);
    const records = await this.records(requestIds);
    const items = requestIds.flatMap((id) => {
      const record = records.get(id);
      return record ? [toBatchItem(record)] : [];
    });
    return start ? { items, nextToken: encodeToken(start) } : { items };
  }

  private query(
    batchId: string,
    options: { start?: Record<string, AttributeValue>; limit?: number; status?: ResultStatus },
  ) {
    const { batchIndex } = resultsTable;
    return this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: batchIndex.name,
        KeyConditionExpression: '#batch = :batch',
        ...(options.status ? { FilterExpression: '#status = :status' } : {}),
        ProjectionExpression: '#requestId, #status, #errors',
        ExpressionAttributeNames: {
          '#batch': batchIndex.partitionKey,
          '#requestId': resultsTable.partitionKey,
          '#status': 'status',
          '#errors': 'errors',
        },
        ExpressionAttributeValues: {
          ':batch': { S: batchId },
          ...(options.status ? { ':status': { S: options.status } } : {}),
        },
        ...(options.limit ? { Limit: options.limit } : {}),
        ...(options.start ? { ExclusiveStartKey: options.start } : {}),
      }),
    );
  }

  /** The full records (for labels), 100 keys per BatchGetItem, retrying what DynamoDB left unprocessed. */
  private async records(requestIds: string[]): Promise<Map<string, ResultRecord>> {
    const found = new Map<string, ResultRecord>();
    for (let offset = 0; offset < requestIds.length; offset += 100) {
      let keys: Record<string, AttributeValue>[] | undefined = requestIds
        .slice(offset, offset + 100)
        .map((id) => ({ [resultsTable.partitionKey]: { S: id } }));
      for (let attempt = 0; keys && keys.length > 0 && attempt < 5; attempt += 1) {
        const out: BatchGetItemCommandOutput = await this.client.send(
          new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys } } }),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const record = fromResultItem(item);
          found.set(record.requestId, record);
        }
        keys = out.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return found;
  }
}

const tokenSchema = z.object({ requestId: z.string(), batchId: z.string(), imageKey: z.string() }).strict();

function encodeToken(key: Record<string, AttributeValue>): string {
  return Buffer.from(JSON.stringify(unmarshall(key))).toString('base64url');
}

/** A page token issued for this batch's index, else an `InvalidPageTokenError`. */
function decodeToken(token: string, batchId: string): Record<string, AttributeValue> {
  try {
    const key = tokenSchema.parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
    if (key.batchId !== batchId) throw new Error('another batch');
    return marshall(key);
  } catch {
    throw new InvalidPageTokenError('nextToken is not a token this API issued for this batch');
  }
}
