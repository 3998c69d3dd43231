import { PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  batchLimits,
  batchSources,
  buildBatchDefinition,
  buildPipelineDefinition,
  platformNames,
  serviceIntegrations,
  type BatchSource,
  type Config,
} from '@mc-vision/core';
import {
  startStepFunctionsServer,
  type EmulatorServer,
  type ExecutionEvent,
  type TaskCall,
} from '@mc-vision/emulators';
import { z } from 'zod';
import { parseStateMachineArn } from './config.ts';
import type { Log } from './log.ts';

// Step Functions for the laptop: the emulator runs core's pipeline definition, and every Task goes where it
// goes in the cloud — the worker Lambda's ARN to the worker's task handler (JSON in, JSON out, errors by
// name), the optimized DynamoDB and SNS integrations to DynamoDB PutItem and SNS Publish through the SDK,
// with errors named as Step Functions names them (`DynamoDB.<code>`, `SNS.<code>`).

/** Named as the cloud names it (core's `platformNames`), so the definition reads the same in both places. */
export function workerFunctionArn(config: Config): string {
  const { region, accountId } = parseStateMachineArn(config.STATE_MACHINE_ARN);
  return platformNames({ ...config, AWS_REGION: region, AWS_ACCOUNT_ID: accountId }).functionArn('worker');
}

export type LambdaHandler = (event: unknown) => Promise<unknown>;

export interface PipelineTaskDeps {
  workerFunctionArn: string;
  worker: LambdaHandler;
  dynamodb: DynamoDBClient;
  sns: SNSClient;
  log: Log;
}

/** An Error whose `name` is what Retry and Catch match. */
function named(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/** Lambda hands a function a copy of the JSON it was sent, and sends back only JSON. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null));

const putItemSchema = z.object({
  TableName: z.string().min(1),
  Item: z.record(z.string(), z.unknown()),
  ConditionExpression: z.string().min(1).optional(),
  ExpressionAttributeNames: z.record(z.string(), z.string()).optional(),
  ExpressionAttributeValues: z.record(z.string(), z.unknown()).optional(),
});
const publishSchema = z.object({
  TopicArn: z.string().min(1),
  Message: z.string(),
  Subject: z.string().optional(),
});

/**
 * The AWS SDK names service errors after their code; a failure without one (connection lost) is what the
 * optimized integrations report as `<Service>.Amazon<Service>Exception`.
 */
function integrationError(service: 'DynamoDB' | 'SNS', error: unknown): Error {
  const sdk = error as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number } };
  const fromService = typeof sdk?.name === 'string' && sdk.$metadata?.httpStatusCode !== undefined;
  const code = fromService ? (sdk.name as string) : `Amazon${service}Exception`;
  return named(`${service}.${code}`, typeof sdk?.message === 'string' ? sdk.message : String(error));
}

export function createPipelineTaskHandler(deps: PipelineTaskDeps): (call: TaskCall) => Promise<unknown> {
  const { log } = deps;
  return async (call) => {
    const execution = call.executionArn.split(':').at(-1);
    try {
      if (call.resource === deps.workerFunctionArn) {
        return asJson(await deps.worker(asJson(call.input)));
      }
      if (call.resource === serviceIntegrations.dynamoDbPutItem) {
        const input = putItemSchema.safeParse(call.input);
        if (!input.success) throw named('DynamoDB.ValidationException', z.prettifyError(input.error));
        try {
          const { Item, ExpressionAttributeValues, ...put } = input.data;
          const { $metadata: _metadata, ...output } = await deps.dynamodb.send(
            new PutItemCommand({
              ...put,
              Item: Item as Record<string, AttributeValue>,
              ...(ExpressionAttributeValues
                ? { ExpressionAttributeValues: ExpressionAttributeValues as Record<string, AttributeValue> }
                : {}),
            }),
          );
          return output;
        } catch (error) {
          throw integrationError('DynamoDB', error);
        }
      }
      if (call.resource === serviceIntegrations.snsPublish) {
        const input = publishSchema.safeParse(call.input);
        if (!input.success) throw named('SNS.InvalidParameterException', z.prettifyError(input.error));
        try {
          const { $metadata: _metadata, ...output } = await deps.sns.send(new PublishCommand(input.data));
          return output;
        } catch (error) {
          throw integrationError('SNS', error);
        }
      }
      throw named('States.TaskFailed', `the local cloud has no handler for resource ${call.resource}`);
    } catch (error) {
      const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
      log({
        component: 'pipeline',
        level: 'warn',
        message: `${call.stateName} failed`,
        execution,
        error: name,
        detail: message,
      });
      throw error instanceof Error ? error : named(name, message);
    }
  };
}

export interface LocalStepFunctionsOptions {
  config: Config;
  /** This run's token for the emulator's admin routes. */
  adminToken: string;
  /** Executions and their history are kept here. */
  dataDir: string;
  tasks: PipelineTaskDeps;
  /** What the batches' Distributed Maps read their items from and write their results to. */
  s3: S3Client;
  /** Milliseconds between retries, by state name, instead of the definition's backoff (tests). */
  retryIntervalOverrides?: Record<string, number | number[]>;
  /** Told of every execution's start and close (the AWS/States metrics). */
  onExecution?: (event: ExecutionEvent) => void;
}

/** The batch state machine of each source, by the ARN the configuration names it by. */
export const batchMachineArns = (config: Config): Record<BatchSource, string> => ({
  prefix: config.BATCH_PREFIX_STATE_MACHINE_ARN,
  keys: config.BATCH_KEYS_STATE_MACHINE_ARN,
});

/**
 * The Step Functions endpoint with the pipeline state machine named by `STATE_MACHINE_ARN` and the two batch
 * state machines (`BATCH_*_STATE_MACHINE_ARN`), each rendered from core's definitions with the configuration.
 */
export async function startLocalStepFunctions(options: LocalStepFunctionsOptions): Promise<EmulatorServer> {
  const { config } = options;
  const machine = parseStateMachineArn(config.STATE_MACHINE_ARN);
  const resources = {
    workerFunctionArn: options.tasks.workerFunctionArn,
    resultsTableName: config.RESULTS_TABLE,
    notifyTopicArn: config.NOTIFY_TOPIC_ARN,
  };
  const batchMachines = batchSources.map((source) => {
    const batch = parseStateMachineArn(batchMachineArns(config)[source]);
    if (batch.region !== machine.region || batch.accountId !== machine.accountId) {
      throw new Error("The batch state machines must be in the pipeline state machine's region and account");
    }
    return {
      name: batch.name,
      definition: buildBatchDefinition(
        { ...resources, imagesBucket: config.IMAGES_BUCKET },
        { source, ...batchLimits(config) },
      ),
    };
  });
  return startStepFunctionsServer({
    adminToken: options.adminToken,
    dataDir: options.dataDir,
    region: machine.region,
    accountId: machine.accountId,
    stateMachines: [{ name: machine.name, definition: buildPipelineDefinition(resources) }, ...batchMachines],
    taskHandler: createPipelineTaskHandler(options.tasks),
    s3: options.s3,
    ...(options.retryIntervalOverrides ? { retryIntervalOverrides: options.retryIntervalOverrides } : {}),
    ...(options.onExecution ? { onExecution: options.onExecution } : {}),
  });
}
