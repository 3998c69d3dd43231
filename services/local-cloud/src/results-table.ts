import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { batchIndexDefinition, resultsTable, resultsTableDefinition } from '@mc-vision/core';

/**
 * Creates the results table as the platform lays it out (`resultsTable`, GSIs included) unless it exists; a
 * table made before batches gets their index added (`updated`).
 */
export async function ensureResultsTable(
  client: DynamoDBClient,
  tableName: string,
): Promise<'created' | 'found' | 'updated'> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexes = Table?.GlobalSecondaryIndexes ?? [];
    if (indexes.some((index) => index.IndexName === resultsTable.batchIndex.name)) return 'found';
    const { AttributeDefinitions = [] } = resultsTableDefinition(tableName);
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions,
        GlobalSecondaryIndexUpdates: [{ Create: batchIndexDefinition() }],
      }),
    );
    await untilActive(client, tableName);
    return 'updated';
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(new CreateTableCommand(resultsTableDefinition(tableName)));
  await untilActive(client, tableName);
  return 'created';
}

/** Item reads and writes fail until a new or updated table is ACTIVE (dynalite flips it on a timer, as AWS does). */
async function untilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  await waitUntilTableExists({ client, minDelay: 1, maxDelay: 1, maxWaitTime: 60 }, { TableName: tableName });
}
