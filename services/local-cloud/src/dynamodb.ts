// s3rver and dynalite ship no types. Ours are referenced here, not only listed in tsconfig, so that packages
// that type-check this one (web's tests) see them too.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../../../types/emulators.d.ts" />
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { resultsTableDefinition } from '@mc-vision/core';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import { listen, stopServer, type Component } from './server.ts';

/** DynamoDB (dynalite) on loopback, its tables kept in LevelDB under `dir`. */
export async function startDynamoDb(dir: string): Promise<Component> {
  const server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await listen(server, 0, '127.0.0.1');
  return {
    name: 'dynamodb',
    description: 'dynalite',
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    // dynalite closes its database once the HTTP server has closed.
    close: () => stopServer(server),
  };
}

/** Creates the results table as the platform lays it out (`resultsTable`, GSI included) unless it exists. */
export async function ensureResultsTable(
  client: DynamoDBClient,
  tableName: string,
): Promise<'created' | 'found'> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return 'found';
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(new CreateTableCommand(resultsTableDefinition(tableName)));
  return 'created';
}
