import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { createDynamoDbClient, createSnsClient, loadConfig, serviceIntegrations } from '@mc-vision/core';
import type { TaskCall } from '@mc-vision/emulators';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startDynamoDb } from '../src/dynamodb.ts';
import type { LogEntry } from '../src/index.ts';
import { ensureResultsTable } from '../src/results-table.ts';
import { startSns } from '../src/sns.ts';
import { createPipelineTaskHandler } from '../src/pipeline.ts';
import type { Component } from '../src/server.ts';
import { tempDir } from './support.ts';

// How the local Step Functions runs the pipeline's Tasks: the worker as Lambda runs it (JSON in, JSON out,
// errors by name), and the DynamoDB and SNS integrations through the SDK with Step Functions' error names.

const workerArn = 'arn:aws:lambda:us-east-1:000000000000:function:mc-vision-worker';
const call = (resource: string, input: unknown): TaskCall => ({
  stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:mc-vision-pipeline',
  executionArn: 'arn:aws:states:us-east-1:000000000000:execution:mc-vision-pipeline:req-1',
  stateName: 'SomeState',
  resource,
  input,
});
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the task to fail');
    },
    (error: Error) => ({ name: error.name, message: error.message }),
  );

describe('the pipeline tasks', () => {
  let dir: string;
  let dynamodb: Component;
  let sns: Component;
  let handle: (call: TaskCall) => Promise<unknown>;
  let topicArn: string;
  const logs: LogEntry[] = [];
  let workerSaw: unknown;

  beforeAll(async () => {
    dir = await tempDir('tasks');
    const credentials = { accessKeyId: 'tasks-test', secretAccessKey: 'tasks-test-secret' };
    [dynamodb, sns] = await Promise.all([
      startDynamoDb({ dir: join(dir, 'dynamodb'), credentials }),
      startSns(),
    ]);
    const config = loadConfig({
      DYNAMODB_ENDPOINT: dynamodb.url,
      SNS_ENDPOINT: sns.url,
      EMULATOR_ACCESS_KEY_ID: credentials.accessKeyId,
      EMULATOR_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    });
    const dynamoClient = createDynamoDbClient(config);
    const snsClient = createSnsClient(config);
    await ensureResultsTable(dynamoClient, config.RESULTS_TABLE);
    ({ TopicArn: topicArn } = (await snsClient.send(new CreateTopicCommand({ Name: 'notifications' }))) as {
      TopicArn: string;
    });
    handle = createPipelineTaskHandler({
      workerFunctionArn: workerArn,
      worker: async (event) => {
        workerSaw = event;
        const task = (event as { task: string }).task;
        if (task === 'fail') {
          throw Object.assign(new Error('bedrock: throttled'), { name: 'ProviderThrottled' });
        }
        (event as { mutated?: boolean }).mutated = true;
        return { at: new Date('2026-01-02T03:04:05Z'), skipped: undefined };
      },
      dynamodb: dynamoClient,
      sns: snsClient,
      log: (entry) => logs.push(entry),
    });
  }, 30_000);

  afterAll(async () => {
    await Promise.all([dynamodb?.close(), sns?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('invokes the worker with a copy of the JSON input and returns only JSON', async () => {
    const input = { task: 'classify', requestId: 'req-1' };
    expect(await handle(call(workerArn, input))).toEqual({ at: '2026-01-02T03:04:05.000Z' });
    expect(workerSaw).toEqual({ task: 'classify', requestId: 'req-1', mutated: true });
    expect(input).toEqual({ task: 'classify', requestId: 'req-1' });
  });

  it("rethrows the worker's error under its own name, and logs it", async () => {
    expect(await failureOf(handle(call(workerArn, { task: 'fail' })))).toEqual({
      name: 'ProviderThrottled',
      message: 'bedrock: throttled',
    });
    expect(logs).toContainEqual(
      expect.objectContaining({
        component: 'pipeline',
        level: 'warn',
        error: 'ProviderThrottled',
        execution: 'req-1',
      }),
    );
  });

  it('puts the item into DynamoDB, and names its failures DynamoDB.<code>', async () => {
    const item = {
      requestId: { S: 'req-1' },
      listKey: { S: 'result' },
      createdAt: { S: '2026-01-01T00:00:00Z' },
    };
    expect(
      await handle(call(serviceIntegrations.dynamoDbPutItem, { TableName: 'mc-vision-results', Item: item })),
    ).toEqual({});
    expect(
      await failureOf(
        handle(call(serviceIntegrations.dynamoDbPutItem, { TableName: 'no-such-table', Item: item })),
      ),
    ).toMatchObject({ name: 'DynamoDB.ResourceNotFoundException' });
  });

  it('publishes to SNS, and names its failures SNS.<code>', async () => {
    const published = await handle(
      call(serviceIntegrations.snsPublish, { TopicArn: topicArn, Subject: 'hi', Message: 'hello' }),
    );
    expect(published).toEqual({ MessageId: expect.any(String) });
    expect(
      await failureOf(
        handle(call(serviceIntegrations.snsPublish, { TopicArn: `${topicArn}-gone`, Message: 'hello' })),
      ),
    ).toMatchObject({ name: 'SNS.NotFoundException' });
  });

  it('names a lost connection as the optimized integrations do', async () => {
    const config = loadConfig({
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:9',
      SNS_ENDPOINT: 'http://127.0.0.1:9',
    });
    const offline = createPipelineTaskHandler({
      workerFunctionArn: workerArn,
      worker: async () => ({}),
      dynamodb: createDynamoDbClient(config),
      sns: createSnsClient(config),
      log: () => {},
    });
    expect(
      await failureOf(offline(call(serviceIntegrations.dynamoDbPutItem, { TableName: 't', Item: {} }))),
    ).toMatchObject({ name: 'DynamoDB.AmazonDynamoDBException' });
  }, 30_000);
});
