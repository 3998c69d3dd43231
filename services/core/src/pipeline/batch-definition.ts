import * as z from 'zod';
import { batchPrefixes, batchSources, type BatchSource } from '../batches.ts';
import type { Config } from '../config/index.ts';
import {
  buildPipelineDefinition,
  lambdaRetry,
  serviceIntegrations,
  serviceRetry,
  transientSnsErrors,
  type AslBranch,
  type AslCatcher,
  type AslRetrier,
  type PipelineOptions,
  type PipelineResources,
} from './definition.ts';

// A batch: a Distributed Map over many images whose ItemProcessor is the pipeline itself (its `batch-item`
// variant, built by `buildPipelineDefinition`), then one summary notification for the whole batch. Infra
// renders it into `aws_sfn_state_machine`s; the local cloud runs the same document in the Step Functions
// emulator.
//
// ProcessImages (Distributed Map: ItemReader → child executions of the pipeline → ResultWriter)
//   ─ SummarizeBatch (worker: counts, failures, where the results are) ─ NotifyBatch ─ BatchOutcome
//
// One state machine per ItemReader: ListObjectsV2 over a prefix, or GetObject of the JSON key list the API wrote.
// (One machine with both would hold the pipeline's states twice, and state names must be unique in a definition.)

export const batchStates = {
  processImages: 'ProcessImages',
  summarizeBatch: 'SummarizeBatch',
  summaryFailed: 'SummaryFailed',
  notifyBatch: 'NotifyBatch',
  batchOutcome: 'BatchOutcome',
  batchSucceeded: 'BatchSucceeded',
  batchFailed: 'BatchFailed',
} as const;

/** The map run's label: child executions are `…:execution:<state machine>/Images:<id>`. */
export const batchMapLabel = 'Images';

export const s3Integrations = {
  listObjectsV2: 'arn:aws:states:::s3:listObjectsV2',
  getObject: 'arn:aws:states:::s3:getObject',
  putObject: 'arn:aws:states:::s3:putObject',
} as const;

export interface BatchResources extends PipelineResources {
  /** Where the images, the key lists and the results are. */
  imagesBucket: string;
}

const resourcesSchema = z.object({
  workerFunctionArn: z.string().min(1),
  resultsTableName: z.string().min(1),
  notifyTopicArn: z.string().min(1),
  imagesBucket: z.string().min(1),
});

const optionsSchema = z.object({
  source: z.enum(batchSources),
  maxItems: z.number().int().positive().default(10_000),
  maxConcurrency: z.number().int().positive().default(10),
  /** Whole percent: the States Language schema takes an integer. */
  toleratedFailurePercentage: z.number().int().min(0).max(100).default(10),
  /** The whole batch: a backstop beyond its children's own timeouts. */
  executionTimeoutSeconds: z.number().int().positive().default(86_400),
});
export type BatchOptions = z.input<typeof optionsSchema> & {
  /**
   * The children's task timeouts (the pipeline's own options). An ItemProcessor has no TimeoutSeconds of its
   * own: each child is bounded by its tasks' timeouts and retries, and the batch by `executionTimeoutSeconds`.
   */
  item?: Omit<PipelineOptions, 'variant' | 'executionTimeoutSeconds'>;
};

/** The Distributed Map's limits as configuration sets them: infra and the local cloud render the same. */
export function batchLimits(
  config: Pick<Config, 'BATCH_MAX_ITEMS' | 'BATCH_MAX_CONCURRENCY' | 'BATCH_TOLERATED_FAILURE_PERCENT'>,
): Pick<BatchOptions, 'maxItems' | 'maxConcurrency' | 'toleratedFailurePercentage'> {
  return {
    maxItems: config.BATCH_MAX_ITEMS,
    maxConcurrency: config.BATCH_MAX_CONCURRENCY,
    toleratedFailurePercentage: config.BATCH_TOLERATED_FAILURE_PERCENT,
  };
}

export interface AslMapState {
  Type: 'Map';
  Comment?: string;
  ItemReader: {
    Resource: string;
    Parameters: Record<string, unknown>;
    ReaderConfig: { MaxItems: number; InputType?: 'JSON' };
  };
  ItemSelector: Record<string, unknown>;
  ItemProcessor: AslBranch & { ProcessorConfig: { Mode: 'DISTRIBUTED'; ExecutionType: 'STANDARD' } };
  MaxConcurrency: number;
  ToleratedFailurePercentage: number;
  Label: string;
  ResultWriter: { Resource: string; Parameters: { Bucket: string; Prefix: string } };
  ResultPath: string;
  Retry?: AslRetrier[];
  Catch: AslCatcher[];
  Next: string;
}

export interface BatchDefinition {
  Comment: string;
  StartAt: string;
  TimeoutSeconds: number;
  States: Record<string, unknown> & { [batchStates.processImages]: AslMapState };
}

/**
 * The batch state machine reading its images from `source`. Execution input: `{batchId, source, providers}`
 * (`batchInputSchema`); output `{batchId, counts, results}`. Each item runs as a child execution of the pipeline
 * with `{requestId: <batchId>-<index>, imageKey, batchId, providers}`.
 */
export function buildBatchDefinition(resources: BatchResources, options: BatchOptions): BatchDefinition {
  const checked = resourcesSchema.parse(resources);
  const settings = optionsSchema.parse(options);
  const item = buildPipelineDefinition(checked, { ...options.item, variant: 'batch-item' });
  const b = batchStates;
  const reader = itemReader(settings.source, checked.imagesBucket, settings.maxItems);

  return {
    Comment:
      `MC Vision batch (${settings.source === 'prefix' ? 'images under a prefix' : 'a list of keys'}): ` +
      'the pipeline for every image as a Distributed Map, then one summary notification.',
    StartAt: b.processImages,
    TimeoutSeconds: settings.executionTimeoutSeconds,
    States: {
      [b.processImages]: {
        Type: 'Map',
        Comment: 'One child execution of the pipeline per image; results and failures go to S3.',
        ItemReader: reader,
        ItemSelector: {
          'requestId.$': "States.Format('{}-{}', $.batchId, $$.Map.Item.Index)",
          'imageKey.$': '$$.Map.Item.Value.Key',
          'batchId.$': '$.batchId',
          'providers.$': '$.providers',
        },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: item.StartAt,
          States: item.States,
        },
        MaxConcurrency: settings.maxConcurrency,
        ToleratedFailurePercentage: settings.toleratedFailurePercentage,
        Label: batchMapLabel,
        ResultWriter: {
          Resource: s3Integrations.putObject,
          Parameters: { Bucket: checked.imagesBucket, Prefix: batchPrefixes.results },
        },
        ResultPath: '$.mapRun',
        // More failed items than tolerated (States.ExceedToleratedFailureThreshold), or the items could not be
        // read: the batch still sends its summary, then fails.
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: b.summarizeBatch }],
        Next: b.summarizeBatch,
      },
      [b.summarizeBatch]: {
        Type: 'Task',
        Comment: 'Counts the items by outcome and writes the one notification of the batch.',
        Resource: checked.workerFunctionArn,
        Parameters: {
          task: 'summarize-batch',
          'batchId.$': '$.batchId',
          'executionArn.$': '$$.Execution.Id',
          // The whole state: `$.failure` is there only when the map run failed, and a path to a missing field fails.
          'outcome.$': '$',
        },
        ResultPath: '$.summary',
        TimeoutSeconds: 120,
        Retry: lambdaRetry(),
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.summaryError', Next: b.summaryFailed }],
        Next: b.notifyBatch,
      },
      [b.summaryFailed]: {
        Type: 'Pass',
        Comment: 'The counts could not be had: the batch still says that it ended.',
        Parameters: {
          notification: {
            'subject.$': "States.Format('MC Vision: batch {} ended', $.batchId)",
            'message.$':
              "States.Format('MC Vision batch {} ended, but its summary could not be made (error {}). " +
              "Its items: GET /v1/batches/{}/items (send your API key in x-api-key).', " +
              '$.batchId, $.summaryError.Error, $.batchId)',
          },
          cause: 'The batch failed; its summary could not be made.',
        },
        ResultPath: '$.summary',
        Next: b.notifyBatch,
      },
      [b.notifyBatch]: {
        Type: 'Task',
        Resource: serviceIntegrations.snsPublish,
        Parameters: {
          TopicArn: checked.notifyTopicArn,
          'Subject.$': '$.summary.notification.subject',
          'Message.$': '$.summary.notification.message',
        },
        ResultPath: null,
        TimeoutSeconds: 20,
        Retry: serviceRetry(transientSnsErrors),
        // Best effort: the batch's outcome is its items', whether or not the summary reached the topic.
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: b.batchOutcome }],
        Next: b.batchOutcome,
      },
      [b.batchOutcome]: {
        Type: 'Choice',
        Choices: [{ Variable: '$.failure', IsPresent: true, Next: b.batchFailed }],
        Default: b.batchSucceeded,
      },
      [b.batchSucceeded]: {
        Type: 'Pass',
        Parameters: {
          'batchId.$': '$.batchId',
          'counts.$': '$.summary.counts',
          'mapRun.$': '$.mapRun',
        },
        End: true,
      },
      [b.batchFailed]: {
        Type: 'Fail',
        ErrorPath: '$.failure.Error',
        CausePath: '$.summary.cause',
      },
    },
  };
}

function itemReader(source: BatchSource, bucket: string, maxItems: number): AslMapState['ItemReader'] {
  if (source === 'prefix') {
    // Each item is an object as ListObjectsV2 lists it: {Etag, Key, LastModified, Size, StorageClass}.
    return {
      Resource: s3Integrations.listObjectsV2,
      Parameters: { Bucket: bucket, 'Prefix.$': '$.source.prefix' },
      ReaderConfig: { MaxItems: maxItems },
    };
  }
  // The API's key list has the same item shape: [{"Key": "images/…"}, …].
  return {
    Resource: s3Integrations.getObject,
    Parameters: { Bucket: bucket, 'Key.$': '$.source.manifestKey' },
    ReaderConfig: { InputType: 'JSON', MaxItems: maxItems },
  };
}
