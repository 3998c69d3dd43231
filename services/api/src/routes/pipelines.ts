import {
  DescribeExecutionCommand,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import {
  executionStatusSchema,
  pipelineRequestSchema,
  pipelineStartResponseSchema,
  pipelineStatusResponseSchema,
  requestIdSchema,
  buildPipelineDefinition,
  pipelineInputSchema,
  pipelineStates,
  placeholderResources,
  type ExecutionStatus,
  type PipelineInput,
  type PipelineStatusResponse,
} from '@mc-vision/core';
import { Router } from 'express';
import * as z from 'zod';
import { randomUUID } from 'node:crypto';
import type { RouteDependencies } from '../deps.ts';
import { ApiError, notFound } from '../errors.ts';
import { executionHistoryReader, executionSummary } from '../execution-history.ts';
import { imageVersion } from '../images.ts';
import { causeMessage, pipelineShape, summarizeSteps } from '../pipeline-progress.ts';
import { jsonBody, parseInput, sendValidated } from '../validation.ts';

// The shape (state names, transitions) is the same whatever resources the definition is rendered with.
const shape = pipelineShape(buildPipelineDefinition(placeholderResources));

/** `arn:…:stateMachine:<sm>` → `arn:…:execution:<sm>:` — what every execution ARN of that machine starts with. */
export function executionArnPrefix(stateMachineArn: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:`;
}

/** A redriven execution waiting to run again is, for a caller, still running. */
function statusOf(execution: DescribeExecutionCommandOutput): ExecutionStatus {
  const parsed = executionStatusSchema.safeParse(execution.status);
  return parsed.success ? parsed.data : 'RUNNING';
}

/** A pipeline's path parameter when it is the requestId rather than the execution's ARN. */
const executionIdPath = z.object({ executionId: requestIdSchema });

/** What a repeated start compares with the execution already under its name. */
const existingImageSchema = pipelineInputSchema.pick({ imageKey: true });

const hasName = (error: unknown, ...names: string[]) => error instanceof Error && names.includes(error.name);

export function pipelineRoutes({ config, s3, sfn, results }: RouteDependencies): Router {
  const router = Router();
  const prefix = executionArnPrefix(config.STATE_MACHINE_ARN);
  const history = executionHistoryReader(sfn);

  /** Reads an execution: one that does not exist is this API's 404. */
  async function readExecution<T>(
    executionArn: string,
    read: (executionArn: string) => Promise<T>,
  ): Promise<T> {
    try {
      return await read(executionArn);
    } catch (error) {
      if (hasName(error, 'ExecutionDoesNotExist')) throw notFound(`pipeline execution ${executionArn}`);
      throw error;
    }
  }
  const describe = (executionArn: string): Promise<DescribeExecutionCommandOutput> =>
    readExecution(executionArn, () => sfn.send(new DescribeExecutionCommand({ executionArn })));

  router.post('/v1/pipelines', ...jsonBody, async (req, res) => {
    const body = parseInput(pipelineRequestSchema, req.body, 'body');
    const requestId = body.requestId ?? randomUUID();
    const imageETag = await imageVersion(s3, config.IMAGES_BUCKET, body.key);
    // One record per requestId: the pipeline claims it before it starts (core's results store; its SaveResult
    // writes only over this claim), so an analysis under the same requestId, stored or running, is a conflict.
    const holder = await results.claim(requestId, {
      source: 'pipeline',
      imageKey: body.key,
      ttlDays: config.RESULT_TTL_DAYS,
    });
    const held = holder && ('record' in holder ? holder.record : holder.claim);
    if (held && held.source !== 'pipeline') {
      throw new ApiError(409, 'conflict', `requestId ${requestId} already names an analysis`);
    }
    if (held && held.imageKey !== body.key) {
      throw new ApiError(
        409,
        'conflict',
        `requestId ${requestId} already names a pipeline for another image`,
      );
    }
    const input: PipelineInput = pipelineInputSchema.parse({ requestId, imageKey: body.key, imageETag });
    try {
      // Named after the requestId: Step Functions itself refuses a second execution of that name, so a
      // repeated request can never start the pipeline twice.
      const started = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: config.STATE_MACHINE_ARN,
          name: requestId,
          input: JSON.stringify(input),
        }),
      );
      sendValidated(res, 202, pipelineStartResponseSchema, {
        requestId,
        executionId: started.executionArn!,
        status: 'RUNNING',
      });
    } catch (error) {
      if (hasName(error, 'StateMachineDoesNotExist')) {
        throw new ApiError(503, 'not_ready', 'the pipeline state machine is not deployed');
      }
      // The name is taken by an execution that is closed or had another input.
      if (!hasName(error, 'ExecutionAlreadyExists')) throw error;
      const existing = await describe(`${prefix}${requestId}`);
      // The same image, whatever version of it: a repeated request after an overwrite is still this pipeline.
      const existingInput = existingImageSchema.safeParse(JSON.parse(existing.input ?? 'null'));
      if (!existingInput.success || existingInput.data.imageKey !== body.key) {
        throw new ApiError(
          409,
          'conflict',
          `requestId ${requestId} already names a pipeline for another image`,
        );
      }
      const status = statusOf(existing);
      sendValidated(res, status === 'RUNNING' ? 202 : 200, pipelineStartResponseSchema, {
        requestId,
        executionId: existing.executionArn!,
        status,
      });
    }
  });

  router.get('/v1/pipelines/:executionId', async (req, res) => {
    const executionId = req.params.executionId;
    let requestId: string;
    if (executionId.startsWith('arn:')) {
      // Only executions of our state machine: other ARNs are not resources of this API.
      const name = executionId.startsWith(prefix) ? executionId.slice(prefix.length) : '';
      if (!requestIdSchema.safeParse(name).success) throw notFound(`pipeline execution ${executionId}`);
      requestId = name;
    } else {
      requestId = parseInput(executionIdPath, req.params, 'path').executionId;
    }
    // The history alone tells the execution's status, start and stop: one Step Functions call a poll.
    const executionArn = `${prefix}${requestId}`;
    const events = await readExecution(executionArn, history);
    const execution = executionSummary(events);
    const status = execution.status;
    const steps = summarizeSteps(shape, events, status);
    const saved = steps.some((s) => s.name === pipelineStates.saveResult && s.status === 'succeeded');
    const stored = saved || status !== 'RUNNING' ? await results.get(requestId) : undefined;
    // Only the pipeline's own record: an analysis stored under the same requestId is not this execution's output.
    const output = stored?.source === 'pipeline' ? stored : undefined;
    const body: PipelineStatusResponse = {
      executionId: executionArn,
      requestId,
      status,
      startedAt: execution.startDate.toISOString(),
      ...(execution.stopDate ? { stoppedAt: execution.stopDate.toISOString() } : {}),
      steps,
      ...(output ? { output } : {}),
      ...(execution.error
        ? { error: { code: execution.error, message: causeMessage(execution.cause) } }
        : {}),
    };
    sendValidated(res, 200, pipelineStatusResponseSchema, body);
  });

  return router;
}
