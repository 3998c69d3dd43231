import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { InvalidPageTokenError, RecordExistsError } from './errors.ts';
import { resultRecordSchema, type ResultRecord } from './schemas.ts';

/**
 * The results table's layout, shared by the infra (which creates it), the local cloud (which creates it in
 * dynalite) and the code that reads and writes it. A GSI over a constant `listKey` with `createdAt` as sort key
 * lists records newest first.
 */
export const resultsTable = {
  partitionKey: 'requestId',
  ttlAttribute: 'expiresAt',
  listIndex: { name: 'byCreatedAt', partitionKey: 'listKey', sortKey: 'createdAt' },
  listKeyValue: 'result',
} as const;

// One record per requestId, made atomic: before a flow that was given a requestId does any work, it claims
// the requestId with a conditional PutItem of a claim item under the record's key (`claimedBy`, `imageKey`, the
// TTL, and for an analysis `claimExpiresAt`). Of an analysis and a pipeline started with one requestId at the
// same moment exactly one claim succeeds; the other flow is answered 409 before it has done anything. The
// record then replaces the claim. A claim is no record: it has no `status` and no `listKey`, so `get` and
// `list` (GET /v1/results) never show one. An analysis holds its claim only while its request can still run
// (the API's timeout plus a margin), so a request cut off before it stored its record does not block its
// retry; a pipeline's claim lasts as long as its execution's name does.

/** Who claimed a requestId that has no record yet. */
export interface RequestIdClaim {
  source: ResultRecord['source'];
  imageKey: string;
}

/** What is stored under a requestId: its record, or a claim on it by a flow that has not written one yet. */
export type RequestIdEntry = { record: ResultRecord } | { claim: RequestIdClaim };

const claimAttributes = { claimedBy: 'claimedBy', claimExpiresAt: 'claimExpiresAt' } as const;

/**
 * The pipeline's `SaveResult` condition: the record may be written where nothing is, over the pipeline's own
 * claim, or over a record of this pipeline (a retried or re-run save) — always for the same image. Anything
 * else (an analysis's claim or record) fails the put with `ConditionalCheckFailedException`, which the
 * pipeline reports as `RecordExists`. `:imageKey` is the execution's image.
 */
export const pipelineSaveCondition = {
  ConditionExpression:
    'attribute_not_exists(#requestId) OR (#imageKey = :imageKey AND (#claimedBy = :pipeline OR #source = :pipeline))',
  ExpressionAttributeNames: {
    '#requestId': resultsTable.partitionKey,
    '#imageKey': 'imageKey',
    '#claimedBy': claimAttributes.claimedBy,
    '#source': 'source',
  },
  ExpressionAttributeValues: { ':pipeline': { S: 'pipeline' } },
} as const;

/** The table as a CreateTable request (the local cloud and the tests create it so; infra renders the same). */
export function resultsTableDefinition(tableName: string): CreateTableCommandInput {
  const { partitionKey, listIndex } = resultsTable;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: partitionKey, AttributeType: 'S' },
      { AttributeName: listIndex.partitionKey, AttributeType: 'S' },
      { AttributeName: listIndex.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: listIndex.name,
        KeySchema: [
          { AttributeName: listIndex.partitionKey, KeyType: 'HASH' },
          { AttributeName: listIndex.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

/** A record as a DynamoDB item (what `SaveResult` puts and what `GET /v1/results` reads back). */
export function toResultItem(record: ResultRecord): Record<string, AttributeValue> {
  return marshall(
    { ...resultRecordSchema.parse(record), [resultsTable.listIndex.partitionKey]: resultsTable.listKeyValue },
    { removeUndefinedValues: true, convertClassInstanceToMap: false },
  );
}

export function fromResultItem(item: Record<string, AttributeValue>): ResultRecord {
  const { [resultsTable.listIndex.partitionKey]: _listKey, ...record } = unmarshall(item);
  return resultRecordSchema.parse(record);
}

const claimItemSchema = z.object({
  [claimAttributes.claimedBy]: resultRecordSchema.shape.source,
  imageKey: z.string(),
});

/** A stored item as what it is: a record, or a claim (which has `claimedBy` and no `status`). */
function fromStoredItem(item: Record<string, AttributeValue>): RequestIdEntry {
  if (item[claimAttributes.claimedBy] && !item.status) {
    const claim = claimItemSchema.parse(unmarshall(item));
    return { claim: { source: claim.claimedBy, imageKey: claim.imageKey } };
  }
  return { record: fromResultItem(item) };
}

export interface ResultPage {
  items: ResultRecord[];
  nextToken?: string;
}

export class ResultsStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.client = client;
    this.tableName = tableName;
  }

  /**
   * Stores a new record, in place of the claim on its requestId if there is one; a record with the same
   * requestId already there is a `RecordExistsError`.
   */
  async create(record: ResultRecord): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toResultItem(record),
          ConditionExpression: 'attribute_not_exists(#pk) OR attribute_not_exists(#status)',
          ExpressionAttributeNames: { '#pk': resultsTable.partitionKey, '#status': 'status' },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new RecordExistsError(`a result for requestId ${record.requestId} already exists`);
      }
      throw error;
    }
  }

  /**
   * Claims `requestId` for a flow about to produce its record (see above). Resolves `undefined` when the claim
   * is this caller's, else with what already holds the requestId: a record, or another flow's claim. An
   * analysis passes `holdSeconds`: after that its claim no longer counts, and the next claim takes its place.
   */
  async claim(
    requestId: string,
    claim: RequestIdClaim & { ttlDays: number; holdSeconds?: number },
    now: Date = new Date(),
  ): Promise<RequestIdEntry | undefined> {
    const seconds = Math.floor(now.getTime() / 1000);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: marshall({
              [resultsTable.partitionKey]: requestId,
              [claimAttributes.claimedBy]: claim.source,
              imageKey: claim.imageKey,
              [resultsTable.ttlAttribute]: seconds + claim.ttlDays * 86_400,
              ...(claim.holdSeconds === undefined
                ? {}
                : { [claimAttributes.claimExpiresAt]: seconds + claim.holdSeconds }),
            }),
            ConditionExpression:
              'attribute_not_exists(#pk) OR (attribute_not_exists(#status) AND #held < :now)',
            ExpressionAttributeNames: {
              '#pk': resultsTable.partitionKey,
              '#status': 'status',
              '#held': claimAttributes.claimExpiresAt,
            },
            ExpressionAttributeValues: { ':now': { N: String(seconds) } },
          }),
        );
        return undefined;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      // Taken: say by what. (Gone again already, e.g. by TTL, is rare: claim once more.)
      const existing = await this.entry(requestId);
      if (existing) return existing;
    }
    throw new RecordExistsError(`requestId ${requestId} is being claimed by another request`);
  }

  /** The record stored under `requestId`; a claim is no record (`undefined`). */
  async get(requestId: string): Promise<ResultRecord | undefined> {
    const found = await this.entry(requestId);
    return found && 'record' in found ? found.record : undefined;
  }

  /** What holds `requestId`: its record, a claim on it, or nothing. */
  async entry(requestId: string): Promise<RequestIdEntry | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [resultsTable.partitionKey]: { S: requestId } },
        ConsistentRead: true,
      }),
    );
    return Item ? fromStoredItem(Item) : undefined;
  }

  /** Newest first. `nextToken` is opaque to callers; a tampered one is an `InvalidPageTokenError`. */
  async list(limit: number, nextToken?: string): Promise<ResultPage> {
    const { name, partitionKey } = resultsTable.listIndex;
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: name,
        KeyConditionExpression: '#lk = :lk',
        ExpressionAttributeNames: { '#lk': partitionKey },
        ExpressionAttributeValues: { ':lk': { S: resultsTable.listKeyValue } },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: nextToken ? decodePageToken(nextToken) : undefined,
      }),
    );
    const items = (out.Items ?? []).map(fromResultItem);
    return out.LastEvaluatedKey ? { items, nextToken: encodePageToken(out.LastEvaluatedKey) } : { items };
  }
}

function encodePageToken(key: Record<string, AttributeValue>): string {
  return Buffer.from(JSON.stringify(unmarshall(key))).toString('base64url');
}

function decodePageToken(token: string): Record<string, AttributeValue> {
  const { partitionKey, sortKey } = resultsTable.listIndex;
  try {
    const key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    const expected = [resultsTable.partitionKey, partitionKey, sortKey];
    const valid =
      key !== null &&
      typeof key === 'object' &&
      Object.keys(key).length === expected.length &&
      expected.every((attribute) => typeof key[attribute] === 'string');
    if (!valid) throw new Error('unexpected shape');
    return marshall(key);
  } catch {
    throw new InvalidPageTokenError('nextToken is not a token this API issued');
  }
}
