import { PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  buildPipelineDefinition,
  buildRecordTaskSchema,
  buildResultRecord,
  toResultItem,
  type Classification,
  type Config,
  type Description,
} from '@mc-vision/core';
import type { EmulatorServer } from '@mc-vision/emulators';
import { startStepFunctionsServer, type TaskCall } from '@mc-vision/emulators/step-functions';
import { join } from 'node:path';

// The project's Step Functions endpoint (the real JSON protocol) running the real pipeline definition. The
// worker's Lambda tasks answer with canned provider results, or with named failures set per requestId;
// SaveResult really puts the item into DynamoDB; Notify is recorded. The full stack (real worker, real
// providers, SNS) is the local cloud's test.

export const workerFunctionArn = 'arn:aws:lambda:us-east-1:000000000000:function:mc-vision-worker';

const classification: Classification = {
  model: 'darknet-tiny',
  labels: [{ label: 'pelican', score: 0.99 }],
  latencyMs: 12,
};
const description = (model: string): Description => ({
  model,
  caption: 'A pelican standing on a rock.',
  tags: ['pelican', 'bird'],
  guardrail: { action: 'NONE', findings: [] },
  usage: { inputTokens: 380, outputTokens: 14 },
  costUsd: 0.0001,
  latencyMs: 40,
  emulated: true,
});

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

export async function startLocalPipeline(config: Config, dynamodb: DynamoDBClient): Promise<LocalPipeline> {
  const scenarios = new Map<string, Scenario>();
  const attempts = new Map<string, number>();
  const held: (() => void)[] = [];
  const release = () => held.splice(0).forEach((go) => go());

  async function runTask(call: TaskCall): Promise<unknown> {
    const requestId = call.executionArn.split(':').at(-1)!;
    const scenario = scenarios.get(requestId) ?? {};
    const count = (attempts.get(`${requestId}/${call.stateName}`) ?? 0) + 1;
    attempts.set(`${requestId}/${call.stateName}`, count);
    if (scenario.hold?.includes(call.stateName)) await new Promise<void>((go) => held.push(go));
    const failure = scenario.failures?.[call.stateName];
    const error = failure && (failure.always ? failure.errors[0] : failure.errors[count - 1]);
    if (error) throw error;
    switch (call.stateName) {
      case 'Classify':
        return classification;
      case 'DescribeWithBedrock':
        return description(config.BEDROCK_MODEL_ID);
      case 'DescribeWithAzure':
        return description('gpt-4o-mini-2024-07-18');
      case 'BuildRecord': {
        const task = buildRecordTaskSchema.parse(call.input);
        const results: Record<string, unknown> = {};
        const errors: Record<string, { code: string; message: string }> = {};
        for (const [provider, outcome] of Object.entries(task.outcomes)) {
          if ('result' in outcome) results[provider] = outcome.result;
          else errors[provider] = { code: outcome.Error, message: String(outcome.Cause ?? '') };
        }
        const record = buildResultRecord({
          requestId: task.requestId,
          imageKey: task.imageKey,
          source: 'pipeline',
          results,
          errors,
          ttlDays: config.RESULT_TTL_DAYS,
        });
        return {
          record,
          item: toResultItem(record),
          notification: { subject: `MC Vision: ${record.status}`, message: JSON.stringify(record) },
        };
      }
      case 'SaveResult': {
        const { TableName, Item } = call.input as { TableName: string; Item: never };
        await dynamodb.send(new PutItemCommand({ TableName, Item }));
        return {};
      }
      case 'Notify':
      case 'NotifyPipelineFailure':
        return { MessageId: `message-${requestId}` };
      default:
        throw namedError('States.TaskFailed', `no task ${call.stateName}`);
    }
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
    },
  };
}
