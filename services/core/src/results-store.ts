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

  /** Stores a new record; a record with the same requestId already there is a `RecordExistsError`. */
  async create(record: ResultRecord): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toResultItem(record),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': resultsTable.partitionKey },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new RecordExistsError(`a result for requestId ${record.requestId} already exists`);
      }
      throw error;
    }
  }

  async get(requestId: string): Promise<ResultRecord | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [resultsTable.partitionKey]: { S: requestId } },
        ConsistentRead: true,
      }),
    );
    return Item ? fromResultItem(Item) : undefined;
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
