import { PutItemCommand, type DynamoDBClient, type PutItemCommandInput } from '@aws-sdk/client-dynamodb';
import {
  buildPipelineDefinition,
  createProviders,
  createS3Client,
  serviceIntegrations,
  type Config,
} from '@mc-vision/core';
import type { EmulatorServer } from '@mc-vision/emulators';
import { startStepFunctionsServer, type TaskCall } from '@mc-vision/emulators/step-functions';
import { createTaskHandler } from '@mc-vision/worker';
import { join } from 'node:path';

// The project's Step Functions endpoint (the real JSON protocol) running the real pipeline definition, its
// Lambda tasks run by the worker's real task handler (Classify, DescribeWith*, BuildRecord) against the
// providers `config` points at; SaveResult really puts the item into DynamoDB; Notify is recorded (the full stack
// with SNS is the local cloud's test). A test can make a state fail with named errors, or hold, per requestId.

export const workerFunctionArn = 'arn:aws:lambda:us-east-1:000000000000:function:mc-vision-worker';

/** An error as the worker throws it: Step Functions matches Retry and Catch on its name. */
export const namedError = (name: string, message: string) => Object.assign(new Error(message), { name });

/** How one execution's tasks behave; anything not listed answers at once. */
export interface Scenario {
  /** Per state: the error of each attempt in turn (then success), or with `always`, of every attempt. */
  failures?: Record<string, { errors: Error[]; always?: boolean }>;
  /** Tasks of these states wait until `release()`. */
  hold?: string[];
}

export interface LocalPipeline {
  stepFunctions: EmulatorServer;
  /** Keyed by requestId (the execution name). */
  scenarios: Map<string, Scenario>;
  /** Task calls made, keyed `requestId/StateName`. */
  attempts: Map<string, number>;
  /** Lets every held task go on. */
  release(): void;
  close(): Promise<void>;
}

const retriedStates = [
  'Classify',
  'DescribeWithBedrock',
  'DescribeWithAzure',
  'BuildRecord',
  'SaveResult',
  'Notify',
  'NotifyPipelineFailure',
];

/**
 * `config` must point at S3 (the images) and at the three providers (`startLocalProviders().env`), as the
 * worker's would.
 */
export async function startLocalPipeline(config: Config, dynamodb: DynamoDBClient): Promise<LocalPipeline> {
  const scenarios = new Map<string, Scenario>();
  const attempts = new Map<string, number>();
  const held: (() => void)[] = [];
  const release = () => held.splice(0).forEach((go) => go());
  const s3 = createS3Client(config);
  const worker = createTaskHandler({ config, s3, providers: createProviders(config) });
  /** Lambda hands a function a copy of the JSON it was sent, and sends back only JSON. */
  const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null));

  async function runTask(call: TaskCall): Promise<unknown> {
    const requestId = call.executionArn.split(':').at(-1)!;
    const scenario = scenarios.get(requestId) ?? {};
    const count = (attempts.get(`${requestId}/${call.stateName}`) ?? 0) + 1;
    attempts.set(`${requestId}/${call.stateName}`, count);
    if (scenario.hold?.includes(call.stateName)) await new Promise<void>((go) => held.push(go));
    const failure = scenario.failures?.[call.stateName];
    const error = failure && (failure.always ? failure.errors[0] : failure.errors[count - 1]);
    if (error) throw error;
    if (call.resource === workerFunctionArn) return asJson(await worker(asJson(call.input)));
    if (call.resource === serviceIntegrations.dynamoDbPutItem) {
      // The definition's parameters as they are (the conditional put included); errors named as Step Functions
      // names them.
      try {
        await dynamodb.send(new PutItemCommand(call.input as PutItemCommandInput));
      } catch (error) {
        const { name, message } = error as Error;
        throw namedError(`DynamoDB.${name}`, message);
      }
      return {};
    }
    if (call.resource === serviceIntegrations.snsPublish) return { MessageId: `message-${requestId}` };
    throw namedError('States.TaskFailed', `no task for ${call.resource}`);
  }

  const stepFunctions = await startStepFunctionsServer({
    dataDir: join(config.DATA_DIR, 'stepfunctions'),
    stateMachines: [
      {
        name: config.STATE_MACHINE_ARN.split(':').at(-1)!,
        definition: buildPipelineDefinition({
          workerFunctionArn,
          resultsTableName: config.RESULTS_TABLE,
          notifyTopicArn: config.NOTIFY_TOPIC_ARN,
        }),
      },
    ],
    taskHandler: runTask,
    retryIntervalOverrides: Object.fromEntries(retriedStates.map((name) => [name, 0])),
  });
  return {
    stepFunctions,
    scenarios,
    attempts,
    release,
    async close() {
      release();
      await stepFunctions.close();
      s3.destroy();
    },
  };
}
