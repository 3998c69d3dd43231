import * as z from 'zod';
import { retryableErrors } from '../errors.ts';
import { pipelineSaveCondition } from '../results-store.ts';
import type { TaskName } from './tasks.ts';

// The pipeline, defined once as Amazon States Language (JSONPath): infra renders it into
// `aws_sfn_state_machine`, the local cloud runs the same document in aws-local-stepfunctions. It is pure data
// built from the resources it is given, so both places run exactly this.
//
// Classify ─┬─ UseLabelsAsHints ─┐
//           └─ ClassifyFailed ───┴─ Describe (Parallel: DescribeWithBedrock | DescribeWithAzure)
//   ─ BuildRecord ─ SaveResult ─ Notify
// A provider that fails for good is caught and recorded as that step's outcome, so the others' results are
// still saved (`partial`, or `failed` when all three failed) and the notification says so. If the record
// cannot be built or saved, NotifyPipelineFailure tells the topic before the execution fails. SaveResult writes
// only over the pipeline's own claim on the requestId (`pipelineSaveCondition`): a record of another flow is
// never replaced, and the execution fails with `RecordExists`, the conflict the API answers 409 for.

export const pipelineStates = {
  classify: 'Classify',
  useLabelsAsHints: 'UseLabelsAsHints',
  classifyFailed: 'ClassifyFailed',
  describe: 'Describe',
  describeWithBedrock: 'DescribeWithBedrock',
  describeWithBedrockFailed: 'DescribeWithBedrockFailed',
  describeWithAzure: 'DescribeWithAzure',
  describeWithAzureFailed: 'DescribeWithAzureFailed',
  buildRecord: 'BuildRecord',
  saveResult: 'SaveResult',
  notify: 'Notify',
  recordConflict: 'RecordConflict',
  notifyPipelineFailure: 'NotifyPipelineFailure',
  pipelineFailed: 'PipelineFailed',
} as const;

/**
 * The states only a batch item has: it runs the providers it was asked for, and ends by saying whether the
 * item counts as done (its record is `complete` or `partial`) or failed (`failed`), for the Distributed Map's
 * tolerated failure. It notifies nobody: the batch sends one summary.
 */
export const batchItemStates = {
  planProviders: 'PlanProviders',
  classifyOrSkip: 'ClassifyOrSkip',
  classifySkipped: 'ClassifySkipped',
  describeWithBedrockOrSkip: 'DescribeWithBedrockOrSkip',
  describeWithBedrockSkipped: 'DescribeWithBedrockSkipped',
  describeWithAzureOrSkip: 'DescribeWithAzureOrSkip',
  describeWithAzureSkipped: 'DescribeWithAzureSkipped',
  checkItem: 'CheckItem',
  itemDone: 'ItemDone',
  itemFailed: 'ItemFailed',
} as const;

/** A provider the batch did not ask for: its outcome, which BuildRecord leaves out of the record. */
export const notRequestedError = 'MCVision.NotRequested';
/** The error a batch item fails with when every provider asked failed (its `failed` record is saved). */
export const itemFailedError = 'MCVision.ItemFailed';
export type PipelineStateName = (typeof pipelineStates)[keyof typeof pipelineStates];

/** The states that call the worker Lambda, with the task each asks for. */
export const workerTaskStates = {
  [pipelineStates.classify]: 'classify',
  [pipelineStates.describeWithBedrock]: 'describe-bedrock',
  [pipelineStates.describeWithAzure]: 'describe-azure',
  [pipelineStates.buildRecord]: 'build-record',
} as const satisfies Record<string, TaskName>;

/** What DynamoDB, through the optimized integration, reports when `pipelineSaveCondition` does not hold. */
const recordConflictError = 'DynamoDB.ConditionalCheckFailedException';

export const serviceIntegrations = {
  dynamoDbPutItem: 'arn:aws:states:::dynamodb:putItem',
  snsPublish: 'arn:aws:states:::sns:publish',
} as const;

// ---- Amazon States Language, the subset this pipeline uses ----

export interface AslRetrier {
  ErrorEquals: string[];
  IntervalSeconds: number;
  BackoffRate: number;
  MaxAttempts: number;
  MaxDelaySeconds: number;
  JitterStrategy: 'FULL' | 'NONE';
}

export interface AslCatcher {
  ErrorEquals: string[];
  /** Absent: the error output replaces the state's input. */
  ResultPath?: string | null;
  Next: string;
}

type Transition = { Next: string; End?: never } | { End: true; Next?: never };
type Payload = Record<string, unknown>;

export type AslTaskState = {
  Type: 'Task';
  Comment?: string;
  Resource: string;
  Parameters: Payload;
  ResultSelector?: Payload;
  ResultPath?: string | null;
  OutputPath?: string;
  TimeoutSeconds: number;
  Retry: AslRetrier[];
  Catch?: AslCatcher[];
} & Transition;

export type AslPassState = {
  Type: 'Pass';
  Comment?: string;
  InputPath?: string;
  Parameters?: Payload;
  Result?: unknown;
  ResultPath?: string | null;
} & Transition;

export type AslParallelState = {
  Type: 'Parallel';
  Comment?: string;
  Parameters: Payload;
  ResultPath: string;
  Branches: AslBranch[];
} & Transition;

export type AslFailState = {
  Type: 'Fail';
  Comment?: string;
} & ({ Error: string } | { ErrorPath: string }) &
  ({ Cause: string } | { CausePath: string });

export interface AslChoiceRule {
  Variable: string;
  StringEquals?: string;
  BooleanEquals?: boolean;
  IsPresent?: boolean;
  Next: string;
}

export interface AslChoiceState {
  Type: 'Choice';
  Comment?: string;
  Choices: AslChoiceRule[];
  Default: string;
}

export type AslState = AslTaskState | AslPassState | AslParallelState | AslFailState | AslChoiceState;

export interface AslBranch {
  StartAt: string;
  States: Record<string, AslState>;
}

export interface PipelineDefinition extends AslBranch {
  Comment: string;
  TimeoutSeconds: number;
}

// ---- inputs ----

export interface PipelineResources {
  /** The worker Lambda, invoked directly by ARN (its payload in, its return value out). */
  workerFunctionArn: string;
  resultsTableName: string;
  notifyTopicArn: string;
}

// Not checked as ARNs: infra passes Terraform tokens here, which become ARNs only at apply time.
const resourcesSchema = z.object({
  workerFunctionArn: z.string().min(1),
  resultsTableName: z.string().min(1),
  notifyTopicArn: z.string().min(1),
});

/** Example resources for reading the definition (`pnpm pipeline:definition`); the local defaults' names. */
export const placeholderResources: PipelineResources = {
  workerFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:mc-vision-worker',
  resultsTableName: 'mc-vision-results',
  notifyTopicArn: 'arn:aws:sns:us-east-1:000000000000:mc-vision-notifications',
};

const seconds = z.number().int().positive();
const optionsSchema = z.object({
  /**
   * One worker invocation. Keep the worker Lambda's own timeout below it, so a stuck invocation is reported
   * by Lambda (with its logs) rather than cut off here; the provider calls inside have their own timeout.
   */
  workerTaskTimeoutSeconds: seconds.default(90),
  /** One DynamoDB put or SNS publish. */
  serviceTaskTimeoutSeconds: seconds.default(20),
  /**
   * The whole execution: a backstop. With the defaults the longest run the retries and task timeouts allow
   * is about 40 minutes, so this never cuts the catch-and-notify handling short.
   */
  executionTimeoutSeconds: seconds.default(3600),
  /**
   * `pipeline`: one image, `POST /v1/pipelines`, notified on its own. `batch-item`: one image of a batch, run as a
   * Distributed Map's child: it runs only the providers it is given, notifies nobody, and fails when its record
   * is `failed` or could not be saved (so the map run counts it).
   */
  variant: z.enum(['pipeline', 'batch-item']).default('pipeline'),
});
export type PipelineOptions = z.input<typeof optionsSchema>;

// ---- retry policy ----

// The worker's own retryable errors come from core's named errors (`retryableErrors`); the rest are the
// errors Lambda, DynamoDB and SNS report through Step Functions.

/** Lambda's throttling of our invocations. */
const lambdaThrottled = 'Lambda.TooManyRequestsException';

/** The provider is rate-limiting us, or Lambda is: back off longer, try more often. */
export const throttlingErrors = [...retryableErrors.throttled, lambdaThrottled] as const;

/** Lambda's own transient failures, which AWS recommends every Lambda task retries. */
export const lambdaServiceErrors = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
] as const;

/**
 * The provider or the image store is down or timed out (5xx, connection lost), or Lambda had a transient
 * failure.
 */
export const transientWorkerErrors = [...retryableErrors.transient, ...lambdaServiceErrors] as const;

/**
 * DynamoDB through the optimized integration reports `DynamoDB.<error code>`; `AmazonDynamoDBException` is
 * what it reports when the call failed without an error code (connection lost).
 */
export const transientDynamoDbErrors = [
  'DynamoDB.ProvisionedThroughputExceededException',
  'DynamoDB.RequestLimitExceeded',
  'DynamoDB.ThrottlingException',
  'DynamoDB.InternalServerError',
  'DynamoDB.AmazonDynamoDBException',
] as const;

/** SNS reports `SNS.<error code>Exception`: `Throttled` becomes `SNS.ThrottledException`. */
export const transientSnsErrors = [
  'SNS.ThrottledException',
  'SNS.InternalErrorException',
  'SNS.KMSThrottlingException',
] as const;

/** Exponential backoff (×2) with full jitter, capped at `MaxDelaySeconds`. */
function retrier(
  errors: readonly string[],
  policy: Pick<AslRetrier, 'IntervalSeconds' | 'MaxAttempts' | 'MaxDelaySeconds'>,
): AslRetrier {
  return {
    ErrorEquals: [...errors],
    IntervalSeconds: policy.IntervalSeconds,
    BackoffRate: 2,
    MaxAttempts: policy.MaxAttempts,
    MaxDelaySeconds: policy.MaxDelaySeconds,
    JitterStrategy: 'FULL',
  };
}

const providerRetry = (): AslRetrier[] => [
  retrier(throttlingErrors, { IntervalSeconds: 2, MaxAttempts: 5, MaxDelaySeconds: 30 }),
  retrier(transientWorkerErrors, { IntervalSeconds: 1, MaxAttempts: 3, MaxDelaySeconds: 10 }),
];

/** Lambda's own throttling and transient failures: what every worker task that calls no provider retries. */
export const lambdaRetry = (): AslRetrier[] => [
  retrier([lambdaThrottled, ...lambdaServiceErrors], {
    IntervalSeconds: 1,
    MaxAttempts: 3,
    MaxDelaySeconds: 10,
  }),
];

export const serviceRetry = (errors: readonly string[]): AslRetrier[] => [
  retrier(errors, { IntervalSeconds: 1, MaxAttempts: 4, MaxDelaySeconds: 10 }),
];

// ---- the document ----

const image = { 'requestId.$': '$.requestId', 'imageKey.$': '$.imageKey' };

/**
 * The pipeline's state machine for the given resources. Execution input: `{requestId, imageKey, imageETag}`
 * (`pipelineInputSchema`); output: the stored result record.
 */
export function buildPipelineDefinition(
  resources: PipelineResources,
  options: PipelineOptions = {},
): PipelineDefinition {
  const { workerFunctionArn, resultsTableName, notifyTopicArn } = resourcesSchema.parse(resources);
  const timeouts = optionsSchema.parse(options);
  const s = pipelineStates;
  const b = batchItemStates;
  const batchItem = timeouts.variant === 'batch-item';
  /** What the image's readers get: a single pipeline's image is the version it started with (a batch item's, the key's). */
  const pinnedImage = batchItem ? image : { ...image, 'imageETag.$': '$.imageETag' };

  const gates = {
    [s.describeWithBedrock]: {
      provider: 'bedrock',
      choice: b.describeWithBedrockOrSkip,
      skipped: b.describeWithBedrockSkipped,
    },
    [s.describeWithAzure]: {
      provider: 'azure',
      choice: b.describeWithAzureOrSkip,
      skipped: b.describeWithAzureSkipped,
    },
  } as const;
  /** A batch item runs a describer only when asked: otherwise its outcome is `NotRequested`. */
  const skippable = (name: keyof typeof gates): Record<string, AslState> => ({
    [gates[name].choice]: {
      Type: 'Choice',
      Choices: [{ Variable: `$.asked.${gates[name].provider}`, BooleanEquals: true, Next: name }],
      Default: gates[name].skipped,
    },
    [gates[name].skipped]: notRequested(),
  });

  const describeBranch = (
    name: typeof s.describeWithBedrock | typeof s.describeWithAzure,
    failed: string,
  ): AslBranch => ({
    StartAt: batchItem ? gates[name].choice : name,
    States: {
      ...(batchItem ? skippable(name) : {}),
      [name]: {
        Type: 'Task',
        Resource: workerFunctionArn,
        Parameters: { task: workerTaskStates[name], ...pinnedImage, 'hints.$': '$.hints' },
        ResultSelector: { 'result.$': '$' },
        TimeoutSeconds: timeouts.workerTaskTimeoutSeconds,
        Retry: providerRetry(),
        // No ResultPath: the error output becomes the branch's output. (aws-local-stepfunctions 3 mishandles
        // an explicit `ResultPath: '$'` on a catcher.)
        Catch: [{ ErrorEquals: ['States.ALL'], Next: failed }],
        End: true,
      },
      [failed]: {
        Type: 'Pass',
        Comment: "The caught error ({Error, Cause}) is this branch's outcome; the other branch carries on.",
        End: true,
      },
    },
  });

  // A pipeline that cannot build or save its record says so before it fails. A batch item has no notice of its
  // own: the Task's error ends it, so the map run counts it failed, and a redrive of the batch runs that Task
  // again (Step Functions redrives an execution from the state it failed in).
  const toFailureNotice: AslCatcher = {
    ErrorEquals: ['States.ALL'],
    ResultPath: '$.failure',
    Next: s.notifyPipelineFailure,
  };
  const failureNotice: Pick<AslTaskState, 'Catch'> = batchItem ? {} : { Catch: [toFailureNotice] };

  return {
    Comment:
      'MC Vision pipeline: classify an image (SageMaker), describe it (Bedrock and Azure OpenAI in parallel), ' +
      `save the result record (DynamoDB) and notify (SNS). Input {requestId, imageKey${batchItem ? '' : ', imageETag'}}; ` +
      'output the record.',
    StartAt: batchItem ? b.planProviders : s.classify,
    TimeoutSeconds: timeouts.executionTimeoutSeconds,
    States: {
      ...(batchItem ? batchItemStart() : {}),
      [s.classify]: {
        Type: 'Task',
        Resource: workerFunctionArn,
        Parameters: { task: workerTaskStates[s.classify], ...pinnedImage },
        ResultSelector: { 'result.$': '$' },
        ResultPath: '$.classify',
        TimeoutSeconds: timeouts.workerTaskTimeoutSeconds,
        Retry: providerRetry(),
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.classify', Next: s.classifyFailed }],
        Next: s.useLabelsAsHints,
      },
      [s.useLabelsAsHints]: {
        Type: 'Pass',
        Comment: "The classifier's labels become the describers' hints.",
        InputPath: '$.classify.result.labels',
        ResultPath: '$.hints',
        Next: s.describe,
      },
      [s.classifyFailed]: {
        Type: 'Pass',
        Comment: 'The classifier failed (its error is kept in $.classify): describe without hints.',
        Result: [],
        ResultPath: '$.hints',
        Next: s.describe,
      },
      [s.describe]: {
        Type: 'Parallel',
        Parameters: {
          ...pinnedImage,
          'hints.$': '$.hints',
          ...(batchItem ? { 'asked.$': '$.asked' } : {}),
        },
        ResultPath: '$.describe',
        Branches: [
          describeBranch(s.describeWithBedrock, s.describeWithBedrockFailed),
          describeBranch(s.describeWithAzure, s.describeWithAzureFailed),
        ],
        Next: s.buildRecord,
      },
      [s.buildRecord]: {
        Type: 'Task',
        Comment: 'Turns the three outcomes into the result record, its DynamoDB item and the notification.',
        Resource: workerFunctionArn,
        Parameters: {
          task: workerTaskStates[s.buildRecord],
          ...image,
          outcomes: {
            'sagemaker.$': '$.classify',
            'bedrock.$': '$.describe[0]',
            'azure.$': '$.describe[1]',
          },
          ...(batchItem ? { 'batchId.$': '$.batchId', 'providers.$': '$.providers' } : {}),
        },
        ResultPath: '$.built',
        TimeoutSeconds: timeouts.workerTaskTimeoutSeconds,
        Retry: lambdaRetry(),
        ...failureNotice,
        Next: s.saveResult,
      },
      [s.saveResult]: {
        Type: 'Task',
        Resource: serviceIntegrations.dynamoDbPutItem,
        Parameters: {
          TableName: resultsTableName,
          'Item.$': '$.built.item',
          ConditionExpression: pipelineSaveCondition.ConditionExpression,
          ExpressionAttributeNames: { ...pipelineSaveCondition.ExpressionAttributeNames },
          ExpressionAttributeValues: {
            ...pipelineSaveCondition.ExpressionAttributeValues,
            ':imageKey': { 'S.$': '$.imageKey' },
          },
        },
        ResultPath: null,
        TimeoutSeconds: timeouts.serviceTaskTimeoutSeconds,
        Retry: serviceRetry(transientDynamoDbErrors),
        // A record another flow holds (an analysis) is not replaced: the pipeline says so and fails; a batch item
        // fails at this Task like any other save that failed.
        ...(batchItem
          ? {}
          : {
              Catch: [
                { ErrorEquals: [recordConflictError], ResultPath: null, Next: s.recordConflict },
                toFailureNotice,
              ],
            }),
        Next: batchItem ? b.checkItem : s.notify,
      },
      ...(batchItem ? batchItemEnd() : notifyStates()),
    },
  };

  function notifyStates(): Record<string, AslState> {
    return {
      [s.recordConflict]: {
        Type: 'Pass',
        Comment:
          'Another flow holds the requestId (an analysis): nothing was replaced. The API calls it 409.',
        Parameters: {
          Error: 'RecordExists',
          'Cause.$':
            "States.Format('requestId {} already names another result: this pipeline saved none', $.requestId)",
        },
        ResultPath: '$.failure',
        Next: s.notifyPipelineFailure,
      },
      [s.notify]: {
        Type: 'Task',
        Comment: 'The record is saved; if this fails for good the execution fails, and says why.',
        Resource: serviceIntegrations.snsPublish,
        Parameters: {
          TopicArn: notifyTopicArn,
          'Subject.$': '$.built.notification.subject',
          'Message.$': '$.built.notification.message',
        },
        ResultPath: null,
        OutputPath: '$.built.record',
        TimeoutSeconds: timeouts.serviceTaskTimeoutSeconds,
        Retry: serviceRetry(transientSnsErrors),
        End: true,
      },
      [s.notifyPipelineFailure]: {
        Type: 'Task',
        Comment: 'No record could be built or saved: say so before failing.',
        Resource: serviceIntegrations.snsPublish,
        Parameters: {
          TopicArn: notifyTopicArn,
          'Subject.$': "States.Format('MC Vision: pipeline failed for {}', $.requestId)",
          // The error's name only: its cause can quote a service, and this reaches an inbox (see the worker's
          // notifications: never text the platform did not write itself).
          'Message.$':
            "States.Format('MC Vision could not finish request {}: no result was saved (error {}). " +
            "The execution: GET /v1/pipelines/{} (send your API key in x-api-key).', " +
            '$.requestId, $.failure.Error, $.requestId)',
        },
        ResultPath: null,
        TimeoutSeconds: timeouts.serviceTaskTimeoutSeconds,
        Retry: serviceRetry(transientSnsErrors),
        // The notice is best effort: the execution fails with the original error either way.
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: s.pipelineFailed }],
        Next: s.pipelineFailed,
      },
      [s.pipelineFailed]: {
        Type: 'Fail',
        ErrorPath: '$.failure.Error',
        Cause: 'The result record could not be built or saved; a failure notification was sent.',
      },
    };
  }

  function notRequested(): AslPassState {
    return {
      Type: 'Pass',
      Comment: 'The batch did not ask for this provider: BuildRecord leaves it out of the record.',
      Result: { Error: notRequestedError, Cause: 'not requested' },
      End: true,
    };
  }

  /** Which providers the item runs (its input's `providers`), as booleans the Choice states test. */
  function batchItemStart(): Record<string, AslState> {
    const asked = (provider: string) => `States.ArrayContains($.providers, '${provider}')`;
    return {
      [b.planProviders]: {
        Type: 'Pass',
        Parameters: {
          'sagemaker.$': asked('sagemaker'),
          'bedrock.$': asked('bedrock'),
          'azure.$': asked('azure'),
        },
        ResultPath: '$.asked',
        Next: b.classifyOrSkip,
      },
      [b.classifyOrSkip]: {
        Type: 'Choice',
        Choices: [{ Variable: '$.asked.sagemaker', BooleanEquals: true, Next: s.classify }],
        Default: b.classifySkipped,
      },
      [b.classifySkipped]: {
        Type: 'Pass',
        Comment: 'Not asked to classify: the describers go without hints.',
        Result: { Error: notRequestedError, Cause: 'not requested' },
        ResultPath: '$.classify',
        Next: s.classifyFailed,
      },
    };
  }

  /** The item's verdict for the map run: a `failed` record fails the child (the record stays saved). */
  function batchItemEnd(): Record<string, AslState> {
    return {
      [b.checkItem]: {
        Type: 'Choice',
        Choices: [{ Variable: '$.built.record.status', StringEquals: 'failed', Next: b.itemFailed }],
        Default: b.itemDone,
      },
      [b.itemDone]: {
        Type: 'Pass',
        Parameters: { ...image, 'status.$': '$.built.record.status' },
        End: true,
      },
      [b.itemFailed]: {
        Type: 'Fail',
        Error: itemFailedError,
        Cause: 'Every provider asked failed for this image; its failed record is saved.',
      },
    };
  }
}
