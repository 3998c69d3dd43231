import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ListExecutionsCommand,
  ListMapRunsCommand,
  RedriveExecutionCommand,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import {
  allProviders,
  batchCounts,
  batchIdSchema,
  batchInputSchema,
  batchItemsQuerySchema,
  batchItemsResponseSchema,
  batchListQuerySchema,
  batchListResponseSchema,
  batchPrefixes,
  batchRedriveResponseSchema,
  batchRequestSchema,
  batchSources,
  batchStartResponseSchema,
  batchStatusResponseSchema,
  executionStatusSchema,
  manifestKey,
  type BatchInput,
  type BatchSource,
  type BatchStatusResponse,
  type ExecutionStatus,
} from '@mc-vision/core';
import express, { Router } from 'express';
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ApiDependencies } from '../deps.ts';
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

/** A redriven execution waiting to run again is, for a caller, still running. */
function statusOf(execution: DescribeExecutionCommandOutput): ExecutionStatus {
  const parsed = executionStatusSchema.safeParse(execution.status);
  return parsed.success ? parsed.data : 'RUNNING';
}

export function batchRoutes({ config, s3, sfn, batchRecords }: ApiDependencies): Router {
  const router = Router();
  const machines: Record<BatchSource, string> = {
    prefix: config.BATCH_PREFIX_STATE_MACHINE_ARN,
    keys: config.BATCH_KEYS_STATE_MACHINE_ARN,
  };
  const executionArn = (source: BatchSource, batchId: string) =>
    `${machines[source].replace(':stateMachine:', ':execution:')}:${batchId}`;

  /** The batch's execution, in whichever batch state machine has it. */
  async function find(batchId: string): Promise<{ source: BatchSource; execution: DescribeExecutionCommandOutput } | undefined> {
    const found = await Promise.all(
      batchSources.map(async (source) => {
        try {
          return { source, execution: await sfn.send(new DescribeExecutionCommand({ executionArn: executionArn(source, batchId) })) };
        } catch (error) {
          if (hasName(error, 'ExecutionDoesNotExist', 'StateMachineDoesNotExist')) return undefined;
          throw error;
        }
      }),
    );
    return found.find((entry) => entry !== undefined);
  }

  async function findOr404(batchId: string) {
    const found = await find(batchId);
    if (!found) throw notFound(`batch ${batchId}`);
    return found;
  }

  /** Keys under the prefix, up to one more than a batch may hold (enough to refuse it). */
  async function listPrefix(prefix: string): Promise<number> {
    let count = 0;
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: config.IMAGES_BUCKET, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
      );
      count += page.KeyCount ?? page.Contents?.length ?? 0;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token && count <= config.BATCH_MAX_ITEMS);
    return count;
  }

  const tooMany = (count: number | string) =>
    new ApiError(400, 'invalid_request', `a batch holds at most ${config.BATCH_MAX_ITEMS} images, not ${count}`);

  router.post('/v1/batches', ...batchBody, async (req, res) => {
    const body = parseInput(batchRequestSchema, req.body, 'body');
    const batchId = body.requestId ?? randomUUID();
    const providers = body.providers ?? [...allProviders];
    let input: BatchInput;
    let manifest: string | undefined;
    if ('keys' in body) {
      if (body.keys.length > config.BATCH_MAX_ITEMS) throw tooMany(body.keys.length);
      // The ListObjectsV2 item shape, so one ItemSelector reads both kinds of batch.
      manifest = JSON.stringify(body.keys.map((key) => ({ Key: key })));
      const sha256 = createHash('sha256').update(manifest).digest('hex');
      input = batchInputSchema.parse({
        batchId,
        source: { manifestKey: manifestKey(batchId), count: body.keys.length, sha256 },
        providers,
      });
    } else {
      const count = await listPrefix(body.prefix);
      if (count === 0) throw new ApiError(400, 'invalid_request', `there are no images under ${body.prefix}`);
      if (count > config.BATCH_MAX_ITEMS) throw tooMany(`more than ${config.BATCH_MAX_ITEMS}`);
      input = batchInputSchema.parse({ batchId, source: { prefix: body.prefix }, providers });
    }
    const source: BatchSource = 'keys' in body ? 'keys' : 'prefix';
    const text = JSON.stringify(input);

    const answerExisting = (found: { source: BatchSource; execution: DescribeExecutionCommandOutput }) => {
      if (found.source !== source || found.execution.input !== text) {
        throw new ApiError(409, 'conflict', `requestId ${batchId} already names another batch`);
      }
      const status = statusOf(found.execution);
      sendValidated(res, status === 'RUNNING' ? 202 : 200, batchStartResponseSchema, { batchId, requestId: batchId, status });
    };
    const existing = body.requestId ? await find(batchId) : undefined;
    if (existing) {
      answerExisting(existing);
      return;
    }
    if (manifest) {
      await s3.send(
        new PutObjectCommand({ Bucket: config.IMAGES_BUCKET, Key: manifestKey(batchId), Body: manifest, ContentType: 'application/json' }),
      );
    }
    try {
      await sfn.send(new StartExecutionCommand({ stateMachineArn: machines[source], name: batchId, input: text }));
    } catch (error) {
      if (hasName(error, 'StateMachineDoesNotExist')) {
        throw new ApiError(503, 'not_ready', 'the batch state machine is not deployed');
      }
      if (!hasName(error, 'ExecutionAlreadyExists')) throw error;
      answerExisting(await findOr404(batchId));
      return;
    }
    sendValidated(res, 202, batchStartResponseSchema, { batchId, requestId: batchId, status: 'RUNNING' });
  });

  router.get('/v1/batches', async (req, res) => {
    const { limit } = parseInput(batchListQuerySchema, req.query, 'query');
    const pages = await Promise.all(
      batchSources.map((source) => sfn.send(new ListExecutionsCommand({ stateMachineArn: machines[source], maxResults: limit }))),
    );
    const items = pages
      .flatMap((page) => page.executions ?? [])
      .sort((a, b) => b.startDate!.getTime() - a.startDate!.getTime())
      .slice(0, limit)
      .map((execution) => ({
        batchId: execution.name!,
        status: executionStatusSchema.catch('RUNNING').parse(execution.status),
        startedAt: execution.startDate!.toISOString(),
        ...(execution.stopDate ? { stoppedAt: execution.stopDate.toISOString() } : {}),
      }));
    sendValidated(res, 200, batchListResponseSchema, { items });
  });

  router.get('/v1/batches/:batchId', async (req, res) => {
    const { batchId } = parseInput(batchParamsSchema, req.params, 'path');
    const { execution } = await findOr404(batchId);
    const input = batchInputSchema.parse(JSON.parse(execution.input ?? 'null'));
    const [mapRun, tally] = await Promise.all([mapRunOf(execution.executionArn!), batchRecords.tally(batchId)]);
    const status = statusOf(execution);
    const body: BatchStatusResponse = {
      batchId,
      requestId: batchId,
      status,
      source: 'prefix' in input.source ? { prefix: input.source.prefix } : { keys: input.source.count },
      counts: batchCounts(mapRun, tally),
      startedAt: execution.startDate!.toISOString(),
      ...(execution.stopDate ? { stoppedAt: execution.stopDate.toISOString() } : {}),
      ...(mapRun?.finished
        ? { results: { bucket: config.IMAGES_BUCKET, manifestKey: `${batchPrefixes.results}/${mapRun.id}/manifest.json` } }
        : {}),
      ...(execution.error ? { error: { code: execution.error, message: causeMessage(execution.cause) } } : {}),
      redrivable: execution.redriveStatus === 'REDRIVABLE',
      redriveCount: execution.redriveCount ?? 0,
    };
    sendValidated(res, 200, batchStatusResponseSchema, body);
  });

  router.get('/v1/batches/:batchId/items', async (req, res) => {
    const { batchId } = parseInput(batchParamsSchema, req.params, 'path');
    const query = parseInput(batchItemsQuerySchema, req.query, 'query');
    await findOr404(batchId);
    sendValidated(
      res,
      200,
      batchItemsResponseSchema,
      await batchRecords.page(batchId, {
        limit: query.limit,
        ...(query.nextToken ? { nextToken: query.nextToken } : {}),
        ...(query.status ? { status: query.status } : {}),
      }),
    );
  });

  router.post('/v1/batches/:batchId/redrive', async (req, res) => {
    const { batchId } = parseInput(batchParamsSchema, req.params, 'path');
    const { execution } = await findOr404(batchId);
    try {
      await sfn.send(new RedriveExecutionCommand({ executionArn: execution.executionArn! }));
    } catch (error) {
      if (hasName(error, 'ExecutionNotRedrivable')) {
        throw new ApiError(409, 'conflict', `batch ${batchId} cannot be redriven: ${(error as Error).message}`);
      }
      throw error;
    }
    sendValidated(res, 202, batchRedriveResponseSchema, {
      batchId,
      status: 'RUNNING',
      redriveCount: (execution.redriveCount ?? 0) + 1,
    });
  });

  /** The execution's map run: how many items it has, how many of its children failed, whether it ended. */
  async function mapRunOf(parentArn: string) {
    const { mapRuns = [] } = await sfn.send(new ListMapRunsCommand({ executionArn: parentArn }));
    const latest = mapRuns.at(0);
    if (!latest?.mapRunArn) return undefined;
    const run = await sfn.send(new DescribeMapRunCommand({ mapRunArn: latest.mapRunArn }));
    const items = run.itemCounts;
    return {
      id: latest.mapRunArn.split(':').at(-1)!,
      total: items?.total ?? 0,
      failedChildren: (items?.failed ?? 0) + (items?.timedOut ?? 0) + (items?.aborted ?? 0),
      finished: run.status !== 'RUNNING',
    };
  }

  return router;
}
