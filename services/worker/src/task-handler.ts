import type { S3Client } from '@aws-sdk/client-s3';
import type * as z from 'zod';
import {
  classificationSchema,
  descriptionSchema,
  InvalidModelResponseError,
  parseTaskInput,
  type BuildRecordOutput,
  type Classification,
  type Config,
  type Describer,
  type Description,
  type DescribeTask,
  type ProviderName,
  type Providers,
  type SummarizeBatchOutput,
} from '@mc-vision/core';
import { buildPipelineRecord } from './build-record.ts';
import { readImage, recentImages, type ImageSource } from './image.ts';
import { summarizeBatch, type BatchSummaryDeps } from './summarize-batch.ts';

export interface TaskHandlerDeps {
  config: Pick<Config, 'IMAGES_BUCKET' | 'MAX_IMAGE_BYTES' | 'RESULT_TTL_DAYS' | 'API_BASE_URL'>;
  s3: S3Client;
  providers: Providers;
  /** What the batch's summary reads (its map run, its records); built on first use. */
  batches?: () => Omit<BatchSummaryDeps, 'imagesBucket'>;
  now?: () => Date;
}

export type TaskOutput = Classification | Description | BuildRecordOutput | SummarizeBatchOutput;
export type TaskHandler = (event: unknown) => Promise<TaskOutput>;

/**
 * The handler Step Functions invokes for every worker task (`classify`, `describe-bedrock`, `describe-azure`,
 * `build-record`). Errors are thrown as they are: their `name` (`ProviderThrottled`, `ImageNotFound`,
 * `InvalidTaskInput`, …) is what the pipeline's Retry and Catch match.
 */
export function createTaskHandler(deps: TaskHandlerDeps): TaskHandler {
  const { config, s3, providers } = deps;
  const images: ImageSource = {
    s3,
    bucket: config.IMAGES_BUCKET,
    maxBytes: config.MAX_IMAGE_BYTES,
    recent: recentImages(),
  };

  async function describe(describer: Describer, task: DescribeTask): Promise<Description> {
    const image = await readImage(images, task.imageKey, task.imageETag);
    const hints = task.hints.length > 0 ? task.hints : undefined;
    return checked(describer.provider, descriptionSchema, await describer.describe(image, { hints }));
  }

  return async (event) => {
    const task = parseTaskInput(event);
    switch (task.task) {
      case 'classify': {
        const image = await readImage(images, task.imageKey, task.imageETag);
        return checked('sagemaker', classificationSchema, await providers.sagemaker.classify(image));
      }
      case 'describe-bedrock':
        return describe(providers.bedrock, task);
      case 'describe-azure':
        return describe(providers.azure, task);
      case 'build-record':
        return buildPipelineRecord(task, {
          ttlDays: config.RESULT_TTL_DAYS,
          apiBaseUrl: config.API_BASE_URL,
          now: deps.now?.(),
        });
      case 'summarize-batch': {
        if (!deps.batches) throw new Error('this worker is not wired for batches');
        return summarizeBatch(task, {
          ...deps.batches(),
          imagesBucket: config.IMAGES_BUCKET,
          apiBaseUrl: config.API_BASE_URL,
        });
      }
    }
  };
}

/** A result that would not fit the record is the provider's fault, named so the pipeline records it as such. */
function checked<T>(provider: ProviderName, schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new InvalidModelResponseError(provider, `${provider}: the result does not match the record schema`);
  }
  return parsed.data;
}
