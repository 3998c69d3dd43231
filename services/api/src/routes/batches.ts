import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import {
  batchCounts,
  batchIdSchema,
  batchInputSchema,
  batchItemsQuerySchema,
  batchItemsResponseSchema,
  batchListQuerySchema,
  batchListResponseSchema,
  batchRedriveResponseSchema,
  batchRequestSchema,
  batchSources,
  batchStartResponseSchema,
  batchStatusResponseSchema,
  executionStatusSchema,
  latestMapRun,
  manifestKey,
  providerNames,
  resultsManifestKey,
  type BatchInput,
  type BatchSource,
  type BatchStatusResponse,
} from '@mc-vision/core';
import express, { Router } from 'express';
import { createHash, randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { RouteDependencies } from '../deps.ts';
import { ApiError, notFound } from '../errors.ts';
import { causeMessage } from '../pipeline-progress.ts';
import { parseInput, requireJson, sendValidated } from '../validation.ts';

// Batches: many images through the pipeline as one Distributed Map execution (core's batch definition). The
// execution is named after the batch id (its requestId), so the same request twice is the same batch; a list of
// keys is written to S3 first for the map run's ItemReader, a prefix is listed by the ItemReader itself.

const batchParamsSchema = z.object({ batchId: batchIdSchema });
/** 10,000 keys of up to ~100 characters each. */
const batchBody = [requireJson, express.json({ limit: '2mb' })];

const hasName = (error: unknown, ...names: string[]) => error instanceof Error && names.includes(error.name);

/**
 * Whether a redrive would run anything: a batch stopped (ABORTED) or out of time (TIMED_OUT) in its map run carries
 * on from there. A FAILED batch does not: its Distributed Map's failure was caught (to send the summary), and Step
 * Functions redrives an execution from the state it failed in, here the BatchFailed Fail state, which fails
 * again. (Its failed items, too, ended in a Fail state.)
 */
const redrivable = (execution: DescribeExecutionCommandOutput) =>
  execution.redriveStatus === 'REDRIVABLE' &&
  (execution.status === 'ABORTED' || execution.status === 'TIMED_OUT');

/** A status Step Functions may add later reads as still running (the contract's statuses are the five known). */
const statusOf = (status: string | undefined) => executionStatusSchema.catch('RUNNING').parse(status);

interface FoundBatch {
  source: BatchSource;
  execution: DescribeExecutionCommandOutput;
}

export function batchRoutes({ config, s3, sfn, batchRecords }: RouteDependencies): Router {
  const router = Router();
  const machines: Record<BatchSource, string> = {
    prefix: config.BATCH_PREFIX_STATE_MACHINE_ARN,
    keys: config.BATCH_KEYS_STATE_MACHINE_ARN,
  };
  const executionArn = (source: BatchSource, batchId: string) =>
    `${machines[source].replace(':stateMachine:', ':execution:')}:${batchId}`;

  /** The batch's execution, in whichever batch state machine has it. */
  async function find(batchId: string): Promise<FoundBatch | undefined> {
    const found = await Promise.all(
      batchSources.map(async (source) => {
        try {
          const arn = executionArn(source, batchId);
          return { source, execution: await sfn.send(new DescribeExecutionCommand({ executionArn: arn })) };
        } catch (error) {
          if (hasName(error, 'ExecutionDoesNotExist', 'StateMachineDoesNotExist')) return undefined;
          throw error;
        }
      }),
    );
    return found.find((entry) => entry !== undefined);
  }

  async function findOr404(batchId: string): Promise<FoundBatch> {
    const found = await find(batchId);
    if (!found) throw notFound(`batch ${batchId}`);
    return found;
  }

  /** Objects under the prefix, counted up to one more than a batch may hold (enough to refuse it). */
  async function countUnder(prefix: string): Promise<number> {
    let count = 0;
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: config.IMAGES_BUCKET, Prefix: prefix, ContinuationToken: token }),
      );
      count += page.KeyCount ?? page.Contents?.length ?? 0;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token && count <= config.BATCH_MAX_ITEMS);
    return count;
  }

  const tooMany = (count: string) =>
    new ApiError(
      400,
      'invalid_request',
      `a batch holds at most ${config.BATCH_MAX_ITEMS} images, not ${count}`,
    );

  router.post('/v1/batches', ...batchBody, async (req, res) => {
    const body = parseInput(batchRequestSchema, req.body, 'body');
    const batchId = body.requestId ?? randomUUID();
    const providers = body.providers ?? [...providerNames];
    const source: BatchSource = body.keys ? 'keys' : 'prefix';
    let input: BatchInput;
    let manifest: { key: string; text: string } | undefined;
    if (body.keys) {
      if (body.keys.length > config.BATCH_MAX_ITEMS) throw tooMany(String(body.keys.length));
      // The ListObjectsV2 item shape, so one ItemSelector reads both kinds of batch.
      const text = JSON.stringify(body.keys.map((key) => ({ Key: key })));
      manifest = { key: manifestKey(createHash('sha256').update(text).digest('hex')), text };
      input = { batchId, source: { manifestKey: manifest.key, count: body.keys.length }, providers };
    } else {
      input = { batchId, source: { prefix: body.prefix! }, providers };
    }
    const text = JSON.stringify(batchInputSchema.parse(input));

    /** The same request again is the same batch; the same requestId for anything else is a conflict. */
    const answerExisting = ({ source: existingSource, execution }: FoundBatch) => {
      if (existingSource !== source || execution.input !== text) {
        throw new ApiError(409, 'conflict', `requestId ${batchId} already names another batch`);
      }
      const status = statusOf(execution.status);
      sendValidated(res, status === 'RUNNING' ? 202 : 200, batchStartResponseSchema, {
        batchId,
        requestId: batchId,
        status,
      });
    };
    const existing = body.requestId ? await find(batchId) : undefined;
    if (existing) return answerExisting(existing);

    if (body.prefix) {
      const count = await countUnder(body.prefix);
      if (count === 0) throw new ApiError(400, 'invalid_request', `there are no images under ${body.prefix}`);
      if (count > config.BATCH_MAX_ITEMS) throw tooMany(`more than ${config.BATCH_MAX_ITEMS}`);
    }
    if (manifest) {
      await s3.send(
        new PutObjectCommand({
          Bucket: config.IMAGES_BUCKET,
          Key: manifest.key,
          Body: manifest.text,
          ContentType: 'application/json',
        }),
      );
    }
    try {
      await sfn.send(
        new StartExecutionCommand({ stateMachineArn: machines[source], name: batchId, input: text }),
      );
    } catch (error) {
      if (hasName(error, 'StateMachineDoesNotExist')) {
        throw new ApiError(503, 'not_ready', 'the batch state machine is not deployed');
      }
      // Started by a request that came in at the same moment.
      if (hasName(error, 'ExecutionAlreadyExists')) return answerExisting(await findOr404(batchId));
      throw error;
    }
    sendValidated(res, 202, batchStartResponseSchema, { batchId, requestId: batchId, status: 'RUNNING' });
  });

  router.get('/v1/batches', async (req, res) => {
    const { limit } = parseInput(batchListQuerySchema, req.query, 'query');
    const pages = await Promise.all(
      batchSources.map((source) =>
        sfn.send(new ListExecutionsCommand({ stateMachineArn: machines[source], maxResults: limit })),
      ),
    );
    const items = pages
      .flatMap((page) => page.executions ?? [])
      .sort((a, b) => b.startDate!.getTime() - a.startDate!.getTime())
      .slice(0, limit)
      .map((execution) => ({
        batchId: execution.name!,
        status: statusOf(execution.status),
        startedAt: execution.startDate!.toISOString(),
        ...(execution.stopDate ? { stoppedAt: execution.stopDate.toISOString() } : {}),
      }));
    sendValidated(res, 200, batchListResponseSchema, { items });
  });

  router.get('/v1/batches/:batchId', async (req, res) => {
    const { batchId } = parseInput(batchParamsSchema, req.params, 'path');
    const { execution } = await findOr404(batchId);
    const input = batchInputSchema.parse(JSON.parse(execution.input ?? 'null'));
    const [mapRun, tally] = await Promise.all([
      latestMapRun(sfn, execution.executionArn!),
      batchRecords.tally(batchId),
    ]);
    const body: BatchStatusResponse = {
      batchId,
      requestId: batchId,
      status: statusOf(execution.status),
      source: 'prefix' in input.source ? { prefix: input.source.prefix } : { keys: input.source.count },
      counts: batchCounts(mapRun, tally),
      startedAt: execution.startDate!.toISOString(),
      ...(execution.stopDate ? { stoppedAt: execution.stopDate.toISOString() } : {}),
      ...(mapRun?.finished
        ? { results: { bucket: config.IMAGES_BUCKET, manifestKey: resultsManifestKey(mapRun.id) } }
        : {}),
      ...(execution.error
        ? { error: { code: execution.error, message: causeMessage(execution.cause) } }
        : {}),
      redrivable: redrivable(execution),
      redriveCount: execution.redriveCount ?? 0,
    };
    sendValidated(res, 200, batchStatusResponseSchema, body);
  });

  router.get('/v1/batches/:batchId/items', async (req, res) => {
    const { batchId } = parseInput(batchParamsSchema, req.params, 'path');
    const query = parseInput(batchItemsQuerySchema, req.query, 'query');
    await findOr404(batchId);
    const page = await batchRecords.page(batchId, query);
    sendValidated(res, 200, batchItemsResponseSchema, page);
  });

  router.post('/v1/batches/:batchId/redrive', async (req, res) => {
    const { batchId } = parseInput(batchParamsSchema, req.params, 'path');
    const { execution } = await findOr404(batchId);
    if (execution.status === 'FAILED') {
      throw new ApiError(
        409,
        'conflict',
        `batch ${batchId} failed after all its items ran, and a redrive would fail it again: ` +
          `start a batch of its failed images (GET /v1/batches/${batchId}/items?status=failed)`,
      );
    }
    try {
      await sfn.send(new RedriveExecutionCommand({ executionArn: execution.executionArn! }));
    } catch (error) {
      if (hasName(error, 'ExecutionNotRedrivable')) {
        throw new ApiError(
          409,
          'conflict',
          `batch ${batchId} cannot be redriven: ${(error as Error).message}`,
        );
      }
      throw error;
    }
    sendValidated(res, 202, batchRedriveResponseSchema, {
      batchId,
      status: 'RUNNING',
      redriveCount: (execution.redriveCount ?? 0) + 1,
    });
  });

  return router;
}
