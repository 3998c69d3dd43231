import * as z from 'zod';
import { batchCountsSchema, batchIdSchema, batchResultsSchema } from '../batches.ts';
import {
  classificationSchema,
  descriptionSchema,
  imageKeySchema,
  labelScoreSchema,
  providerNames,
  requestIdSchema,
  resultRecordSchema,
} from '../schemas.ts';

// What the pipeline hands the worker and what the worker hands back. The definition builds these payloads
// with JSONPath and the worker validates them, so both sides share one schema.

/** An S3 ETag as HeadObject and GetObject give it (quoted): which version of the object a pipeline analyses. */
export const imageETagSchema = z.string().min(1).max(1024);

/**
 * The execution input: `POST /v1/pipelines` starts an execution named after `requestId` with this. `imageETag`
 * is the image's version when it started (the API's HeadObject): the tasks read that version or fail with
 * `ImageChanged`, so a record never mixes two images under one key, and a worker that has read it once answers
 * the next task of the pipeline from memory (`readImage`). Required: the definition reads `$.imageETag`, and a
 * missing field would fail the execution outright. (A batch item has none: its tasks read what is under the key.)
 */
export const pipelineInputSchema = z.object({
  requestId: requestIdSchema,
  imageKey: imageKeySchema,
  imageETag: imageETagSchema,
});
export type PipelineInput = z.infer<typeof pipelineInputSchema>;

export const taskNames = [
  'classify',
  'describe-bedrock',
  'describe-azure',
  'build-record',
  'summarize-batch',
] as const;
export type TaskName = (typeof taskNames)[number];

/**
 * Step Functions' error output, as a `Catch` records it: `Error` is the error's name; `Cause` is a message
 * or, for a Lambda task, the JSON `{errorType, errorMessage, trace}` the Lambda runtime reported.
 */
export const caughtErrorSchema = z.object({ Error: z.string(), Cause: z.unknown().optional() });
export type CaughtError = z.infer<typeof caughtErrorSchema>;

/** One step's outcome: its result, or the error its `Catch` recorded. */
function outcomeSchema<T extends z.ZodType>(result: T) {
  return z.union([z.object({ result }), caughtErrorSchema]);
}

const image = { requestId: requestIdSchema, imageKey: imageKeySchema, imageETag: imageETagSchema.optional() };
/** The classifier's labels, offered to the describers; empty when the classifier failed. */
const hints = z.array(labelScoreSchema).max(100).default([]);

export const classifyTaskSchema = z.object({ task: z.literal('classify'), ...image });
export const describeBedrockTaskSchema = z.object({ task: z.literal('describe-bedrock'), ...image, hints });
export const describeAzureTaskSchema = z.object({ task: z.literal('describe-azure'), ...image, hints });
export const buildRecordTaskSchema = z.object({
  task: z.literal('build-record'),
  ...image,
  outcomes: z.object({
    sagemaker: outcomeSchema(classificationSchema),
    bedrock: outcomeSchema(descriptionSchema),
    azure: outcomeSchema(descriptionSchema),
  }),
  /** A batch item's: the record names its batch, and holds only the providers the batch asked for. */
  batchId: batchIdSchema.optional(),
  providers: z.array(z.enum(providerNames)).min(1).optional(),
});

/** The batch's last step: count its items and say how it went, once, for the whole batch. */
export const summarizeBatchTaskSchema = z.object({
  task: z.literal('summarize-batch'),
  batchId: batchIdSchema,
  /** The batch's execution (`$$.Execution.Id`): its map run is found from it. */
  executionArn: z.string().min(1),
  /** The batch's state; `failure` is the Distributed Map's error when it failed (e.g. too many failed items). */
  outcome: z.looseObject({ failure: caughtErrorSchema.optional() }),
});
export type SummarizeBatchTask = z.infer<typeof summarizeBatchTaskSchema>;

export const taskInputSchema = z.discriminatedUnion('task', [
  classifyTaskSchema,
  describeBedrockTaskSchema,
  describeAzureTaskSchema,
  buildRecordTaskSchema,
  summarizeBatchTaskSchema,
]);
export type TaskInput = z.infer<typeof taskInputSchema>;
export type ClassifyTask = z.infer<typeof classifyTaskSchema>;
export type DescribeTask =
  z.infer<typeof describeBedrockTaskSchema> | z.infer<typeof describeAzureTaskSchema>;
export type BuildRecordTask = z.infer<typeof buildRecordTaskSchema>;

/** SNS limits a subject to 100 printable ASCII characters. */
export const pipelineNotificationSchema = z.object({
  subject: z.string().min(1).max(100),
  message: z.string().min(1),
});
export type PipelineNotification = z.infer<typeof pipelineNotificationSchema>;

export const buildRecordOutputSchema = z.object({
  record: resultRecordSchema,
  /** The record as a DynamoDB item (`toResultItem`), which `SaveResult` puts as it is. */
  item: z.record(z.string(), z.unknown()),
  notification: pipelineNotificationSchema,
});
export type BuildRecordOutput = z.infer<typeof buildRecordOutputSchema>;

/** A task event that is not one of the payloads above. Named so Step Functions can match it; never retried. */
export class InvalidTaskInputError extends Error {
  override readonly name = 'InvalidTaskInput';
}

export function parseTaskInput(event: unknown): TaskInput {
  const parsed = taskInputSchema.safeParse(event);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  throw new InvalidTaskInputError(`invalid task input: ${problems.join('; ')}`);
}

/** What SummarizeBatch answers: the one notification, the counts, and the text a failed batch fails with. */
export const summarizeBatchOutputSchema = z.object({
  notification: pipelineNotificationSchema,
  counts: batchCountsSchema,
  results: batchResultsSchema.optional(),
  /** The batch's failure in a sentence (the Fail state's Cause), e.g. how many items failed. */
  cause: z.string().min(1),
});
export type SummarizeBatchOutput = z.infer<typeof summarizeBatchOutputSchema>;
