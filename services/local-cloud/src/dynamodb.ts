// s3rver and dynalite ship no types. Ours are referenced here, not only listed in tsconfig, so that packages
// that type-check this one (web's tests) see them too.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../../../types/emulators.d.ts" />
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { batchIndexDefinition, resultsTable, resultsTableDefinition } from '@mc-vision/core';
import dynalite from 'dynalite';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { guardServer, notTheOwners, readBody, replay, signatureProblem } from './guard.ts';
import { listen, stopServer, type Component } from './server.ts';
import type { Credentials, SignatureProblem } from './sigv4.ts';

/** dynalite's own request limit. */
const maxRequestBytes = 16 * 1024 * 1024;

/** DynamoDB's answers to a request it refuses (AWS JSON 1.0). */
const refusals: Record<SignatureProblem, [number, string, string]> = {
  missing: [400, 'MissingAuthenticationTokenException', 'Request is missing Authentication Token'],
  malformed: [
    400,
    'IncompleteSignatureException',
    'The request signature does not conform to AWS standards.',
  ],
  unknownKey: [400, 'UnrecognizedClientException', 'The security token included in the request is invalid.'],
  mismatch: [
    400,
    'InvalidSignatureException',
    'The request signature we calculated does not match the signature you provided.',
  ],
  expired: [400, 'InvalidSignatureException', 'Signature expired or not yet current.'],
};

function refuse(res: ServerResponse, status: number, type: string, message: string): void {
  const body = JSON.stringify({ __type: `com.amazon.coral.service#${type}`, message });
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export interface LocalDynamoDbOptions {
  /** The tables live here, in LevelDB. */
  dir: string;
  /** Only requests signed with these are served. */
  credentials: Credentials;
}

/**
 * DynamoDB (dynalite) on loopback, its tables kept in LevelDB under `dir`, serving only the owner's requests
 * (loopback Host, no foreign Origin) signed with `credentials`.
 */
export async function startDynamoDb(options: LocalDynamoDbOptions): Promise<Component> {
  const server = dynalite({ path: options.dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  guardServer(server, async (req, res, pass) => {
    const foreign = notTheOwners(req);
    if (foreign) return refuse(res, 403, 'AccessDeniedException', foreign);
    // The signature covers the body: read it first, then hand dynalite the request with it.
    const body = await readBody(req, maxRequestBytes);
    if (!body) return refuse(res, 413, 'ValidationException', 'Request is too large');
    const problem = await signatureProblem(req, 'dynamodb', options.credentials, body);
    if (problem) return refuse(res, ...refusals[problem]);
    pass(replay(req, body));
  });
  await listen(server, 0, '127.0.0.1');
  return {
    name: 'dynamodb',
    description: 'dynalite',
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    // dynalite closes its database once the HTTP server has closed.
    close: () => stopServer(server),
  };
}

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
