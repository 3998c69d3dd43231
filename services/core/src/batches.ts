import * as z from 'zod';
import {
  executionStatusSchema,
  imageKeySchema,
  providerListSchema,
  providerNames,
  requestIdSchema,
  resultStatusSchema,
} from './schemas.ts';

// Batches: one request for many images, run by a Distributed Map whose children are the pipeline (see
// pipeline/batch-definition.ts). These are the contracts the API, the worker, the CLI and the UI share.

/** Where batch files live in the images bucket: the key lists the API writes, the results the map run writes. */
export const batchPrefixes = {
  /** `batches/manifests/<sha256>.json`: `[{"Key": "images/…"}, …]`, the shape ListObjectsV2 items have. */
  manifests: 'batches/manifests/',
  /** The ResultWriter's prefix: Step Functions adds `<map run id>/manifest.json` and the result files. */
  results: 'batches/results',
} as const;

/**
 * A key list is named by its SHA-256: the same list is the same object, and writing one never changes another
 * batch's (a request that turns out to conflict with a running batch leaves that batch's list as it was).
 */
export const manifestKey = (sha256: string) => `${batchPrefixes.manifests}${sha256}.json`;

/** How a batch names its items: `<batchId>-<index>`, so one batch id (≤ 59 characters) leaves room for 10,000. */
export const batchItemRequestId = (batchId: string, index: number) => `${batchId}-${index}`;

/** A batch id is its requestId: the execution name, and the stem of every item's requestId. */
export const batchIdSchema = requestIdSchema.refine((id) => id.length <= 59, {
  message: 'must be at most 59 characters (the items are named <batchId>-<n>)',
});

/** Where a batch takes its images from: one state machine per kind of ItemReader. */
export const batchSources = ['prefix', 'keys'] as const;
export type BatchSource = (typeof batchSources)[number];

/** A prefix under `images/` (ending in `/`, or `images/` itself): what ListObjectsV2 lists. */
export const imagePrefixSchema = z
  .string()
  .max(512)
  .regex(/^images\/([A-Za-z0-9][A-Za-z0-9._-]*\/)*$/, 'must be images/ or a folder under it, ending in /');

const keyListSchema = z
  .array(imageKeySchema)
  .min(1, 'must list at least one key')
  .superRefine((keys, context) => {
    const seen = new Set<string>();
    for (const [index, key] of keys.entries()) {
      if (seen.has(key)) context.addIssue({ code: 'custom', message: `duplicate key ${key}`, path: [index] });
      seen.add(key);
    }
  });

/** `POST /v1/batches`: a list of keys or a prefix, not both. The item limit is configuration (checked by the API). */
export const batchRequestSchema = z
  .strictObject({
    keys: keyListSchema.optional(),
    prefix: imagePrefixSchema.optional(),
    requestId: batchIdSchema.optional(),
    providers: providerListSchema.optional(),
  })
  .refine((body) => (body.keys === undefined) !== (body.prefix === undefined), {
    message: 'give either keys (a list of image keys) or prefix (a folder under images/), not both',
  });
export type BatchRequest = z.infer<typeof batchRequestSchema>;

/** The providers a batch's items run: a batch names them once, each item gets them. */
const itemProvidersSchema = z.array(z.enum(providerNames)).min(1);

/** The execution input of a batch state machine (and each child's providers). */
export const batchInputSchema = z.object({
  batchId: batchIdSchema,
  source: z.union([
    z.object({ prefix: imagePrefixSchema }),
    z.object({
      /** `manifestKey(sha256 of the list)`: the same requestId with other keys is another batch (a conflict). */
      manifestKey: z.string().regex(/^batches\/manifests\/[0-9a-f]{64}\.json$/),
      count: z.number().int().positive(),
    }),
  ]),
  providers: itemProvidersSchema,
});
export type BatchInput = z.infer<typeof batchInputSchema>;

/** What one item's child execution is given (the Distributed Map's ItemSelector builds it). */
export const batchItemInputSchema = z.object({
  requestId: requestIdSchema,
  imageKey: imageKeySchema,
  batchId: batchIdSchema,
  providers: itemProvidersSchema,
});
export type BatchItemInput = z.infer<typeof batchItemInputSchema>;

export const batchStartResponseSchema = z.object({
  batchId: batchIdSchema,
  requestId: batchIdSchema,
  status: executionStatusSchema,
});
export type BatchStartResponse = z.infer<typeof batchStartResponseSchema>;

/** Items by outcome: `running` is every item without an outcome yet (pending or running). */
export const batchCountsSchema = z.object({
  total: z.number().int().nonnegative(),
  complete: z.number().int().nonnegative(),
  partial: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  running: z.number().int().nonnegative(),
});
export type BatchCounts = z.infer<typeof batchCountsSchema>;

/** Where the map run's ResultWriter put the results: `manifest.json` names the result files. */
export const batchResultsSchema = z.object({ bucket: z.string(), manifestKey: z.string() });
export type BatchResults = z.infer<typeof batchResultsSchema>;

export const batchStatusResponseSchema = z.object({
  batchId: batchIdSchema,
  requestId: batchIdSchema,
  status: executionStatusSchema,
  source: z.union([z.object({ prefix: z.string() }), z.object({ keys: z.number().int().positive() })]),
  counts: batchCountsSchema,
  startedAt: z.iso.datetime(),
  stoppedAt: z.iso.datetime().optional(),
  results: batchResultsSchema.optional(),
  /** Why a batch that is not RUNNING or SUCCEEDED ended: e.g. more failed items than tolerated. */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  /**
   * A stopped (ABORTED) or TIMED_OUT batch can be redriven: its items that had not finished run, the others keep
   * their records. A FAILED batch is not: its failed items run again as a new batch of their keys.
   */
  redrivable: z.boolean(),
  redriveCount: z.number().int().nonnegative(),
});
export type BatchStatusResponse = z.infer<typeof batchStatusResponseSchema>;

export const batchItemSchema = z.object({
  requestId: requestIdSchema,
  key: imageKeySchema,
  status: resultStatusSchema,
  /** The classifier's top labels, when it answered. */
  labels: z.array(z.object({ label: z.string(), score: z.number() })).max(3),
  /** The error code of each provider that failed. */
  errors: z.partialRecord(z.enum(providerNames), z.string()).optional(),
});
export type BatchItem = z.infer<typeof batchItemSchema>;

export const batchItemsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  nextToken: z.string().max(2048).optional(),
  status: resultStatusSchema.optional(),
});
export type BatchItemsQuery = z.infer<typeof batchItemsQuerySchema>;

export const batchItemsResponseSchema = z.object({
  items: z.array(batchItemSchema),
  nextToken: z.string().optional(),
});
export type BatchItemsResponse = z.infer<typeof batchItemsResponseSchema>;

export const batchListItemSchema = z.object({
  batchId: batchIdSchema,
  status: executionStatusSchema,
  startedAt: z.iso.datetime(),
  stoppedAt: z.iso.datetime().optional(),
});
export const batchListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export const batchListResponseSchema = z.object({ items: z.array(batchListItemSchema) });
export type BatchListResponse = z.infer<typeof batchListResponseSchema>;

/** `POST /v1/batches/{batchId}/redrive`: answers the batch's status as it starts again. */
export const batchRedriveResponseSchema = z.object({
  batchId: batchIdSchema,
  status: executionStatusSchema,
  redriveCount: z.number().int().positive(),
});
