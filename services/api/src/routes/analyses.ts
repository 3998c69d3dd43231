import {
  analysisRequestSchema,
  buildResultRecord,
  InvalidImageError,
  ProviderError,
  ProviderThrottledError,
  RecordExistsError,
  providerNames,
  publishCustomMetrics,
  recordMetrics,
  resultRecordSchema,
  routeRequestSchema,
  routeResponseSchema,
  toErrorInfo,
  type Config,
  type ImageInput,
  type ProviderErrorInfo,
  type ProviderName,
  type RequestIdEntry,
  type ResultRecord,
} from '@mc-vision/core';
import { Router } from 'express';
import { randomUUID } from 'node:crypto';
import type { RouteDependencies } from '../deps.ts';
import { ApiError, fromProviderError } from '../errors.ts';
import { loadImage } from '../images.ts';
import { requestContext, type RequestContext } from '../request-context.ts';
import { jsonBody, parseInput, sendValidated } from '../validation.ts';
import { providerDeadlineMs, startDeadline, withinDeadline, type Deadline } from './deadline.ts';

interface Analysis {
  record: ResultRecord;
  /** Why each provider that failed failed, as thrown. */
  failures: unknown[];
}

function callProvider(
  { providers }: RouteDependencies,
  name: ProviderName,
  image: ImageInput,
  deadline: Deadline,
): Promise<ResultRecord['results'][ProviderName]> {
  const options = { signal: deadline.signal };
  // The LLMs describe the image on their own here: no classifier labels to wait for.
  const call: Promise<ResultRecord['results'][ProviderName]> =
    name === 'sagemaker'
      ? providers.sagemaker.classify(image, options)
      : providers[name].describe(image, options);
  return withinDeadline(name, deadline, call);
}

/** What a failed provider leaves in the record: its named error, or a generic one for our own bugs. */
function errorInfo(error: unknown, name: ProviderName, context: RequestContext): ProviderErrorInfo {
  if (error instanceof ProviderError || error instanceof InvalidImageError) {
    // The record and the caller get the clean message; the upstream detail (error.cause) is only logged.
    context.logger.warn(`${name} failed`, {
      error: error.name,
      message: error.message,
      cause: String(error.cause ?? ''),
    });
    return toErrorInfo(error);
  }
  context.logger.error(`unexpected error calling ${name}`, error as Error);
  return { code: 'InternalError', message: `unexpected error calling ${name}` };
}

/** Whether a stored record answers exactly this request: an analysis of the same image by the same providers. */
function isSameAnalysis(
  stored: ResultRecord,
  input: { key: string; providers: readonly ProviderName[] },
): boolean {
  const asked = new Set([...Object.keys(stored.results), ...Object.keys(stored.errors ?? {})]);
  return (
    stored.source === 'analysis' &&
    stored.imageKey === input.key &&
    asked.size === input.providers.length &&
    input.providers.every((name) => asked.has(name))
  );
}

/**
 * How long an analysis holds its claim on a requestId: longer than any request can run (the function's
 * timeout), so only a request that was cut off before it stored its record leaves a claim that lapses.
 */
const claimMarginSeconds = 60;

/** 409 for a requestId that something else already holds, saying what. */
function claimedElsewhere(requestId: string, holder: RequestIdEntry): RecordExistsError {
  if ('record' in holder)
    return new RecordExistsError(`requestId ${requestId} already names another request`);
  return new RecordExistsError(
    holder.claim.source === 'pipeline'
      ? `requestId ${requestId} already names a pipeline execution`
      : `requestId ${requestId} already names a request in progress`,
  );
}

interface AnalysisInput {
  key: string;
  providers: readonly ProviderName[];
  /** The caller's; absent, a fresh one is made, which nothing else can have used. */
  requestId: string | undefined;
}

/** Runs the providers concurrently on one stored image and stores the one record for its requestId. */
async function analyse(
  deps: RouteDependencies,
  context: RequestContext,
  deadline: Deadline,
  input: AnalysisInput,
): Promise<Analysis> {
  const { config, s3, results } = deps;
  const requestId = input.requestId ?? randomUUID();
  if (input.requestId) {
    // The requestId is claimed before any provider is paid for (core's results store: one atomic claim per
    // requestId, so of an analysis and a pipeline started at once exactly one goes ahead). A retry of the same
    // request gets the stored record back; anything else holding the requestId is a conflict.
    const holder = await results.claim(requestId, {
      source: 'analysis',
      imageKey: input.key,
      ttlDays: config.RESULT_TTL_DAYS,
      holdSeconds: config.API_TIMEOUT_SECONDS + claimMarginSeconds,
    });
    if (holder) {
      if ('record' in holder && isSameAnalysis(holder.record, input))
        return { record: holder.record, failures: [] };
      throw claimedElsewhere(requestId, holder);
    }
  }
  const image = await loadImage(s3, config.IMAGES_BUCKET, input.key, {
    maxBytes: config.MAX_IMAGE_BYTES,
    maxPixels: config.MAX_IMAGE_PIXELS,
  });
  const settled = await Promise.allSettled(
    input.providers.map((name) => callProvider(deps, name, image, deadline)),
  );

  const outcomes: Partial<Record<ProviderName, unknown>> = {};
  const errors: Partial<Record<ProviderName, ProviderErrorInfo>> = {};
  const failures: unknown[] = [];
  settled.forEach((outcome, i) => {
    const name = input.providers[i]!;
    if (outcome.status === 'fulfilled') {
      outcomes[name] = outcome.value;
    } else {
      errors[name] = errorInfo(outcome.reason, name, context);
      failures.push(outcome.reason);
    }
  });
  const record = buildResultRecord({
    requestId,
    imageKey: input.key,
    source: 'analysis',
    results: outcomes as ResultRecord['results'],
    errors,
    ttlDays: config.RESULT_TTL_DAYS,
  });
  await results.create(record);
  // Only a record made now is counted: a replayed one was counted when it was made.
  if (deps.metrics) publishCustomMetrics(deps.metrics, recordMetrics(record));
  return { record, failures };
}

/**
 * Every provider failed (the record is stored as `failed`): 429 when they were all throttled, so the caller
 * knows waiting helps, else 502.
 */
function allFailed(record: ResultRecord, failures: unknown[]): ApiError {
  const stored = `the failed result is stored as requestId ${record.requestId}`;
  if (failures.length === 1 && failures[0] instanceof ProviderError) {
    const error = fromProviderError(failures[0]);
    return new ApiError(error.status, error.code, `${error.message}; ${stored}`, error.headers);
  }
  if (failures.length > 0 && failures.every((f) => f instanceof ProviderThrottledError)) {
    const wait = Math.max(
      1,
      ...failures.map((f) => Math.ceil((f as ProviderThrottledError).retryAfterSeconds ?? 1)),
    );
    return new ApiError(429, 'rate_limited', `every provider is throttling requests; ${stored}`, {
      'retry-after': String(wait),
    });
  }
  const summary = Object.entries(record.errors ?? {})
    .map(([name, info]) => `${name}: ${info.code}`)
    .join(', ');
  return new ApiError(502, 'provider_failed', `every provider failed (${summary}); ${stored}`);
}

function providerLabel(config: Config, name: ProviderName): string {
  switch (name) {
    case 'sagemaker':
      return `the SageMaker classifier ${config.SAGEMAKER_ENDPOINT_NAME}`;
    case 'bedrock':
      return `Bedrock ${config.BEDROCK_MODEL_ID}`;
    case 'azure':
      return `Azure OpenAI ${config.AZURE_OPENAI_DEPLOYMENT}`;
  }
}

export function analysisRoutes(deps: RouteDependencies): Router {
  const router = Router();
  const { config } = deps;
  const deadlineMs = providerDeadlineMs(config);

  router.post('/v1/analyses', ...jsonBody, async (req, res) => {
    const deadline = startDeadline(deadlineMs);
    const body = parseInput(analysisRequestSchema, req.body, 'body');
    const { record, failures } = await analyse(deps, requestContext(res), deadline, {
      key: body.key,
      providers: body.providers ?? providerNames,
      requestId: body.requestId,
    });
    if (record.status === 'failed') throw allFailed(record, failures);
    sendValidated(res, 200, resultRecordSchema, record);
  });

  router.post('/v1/route', ...jsonBody, async (req, res) => {
    const deadline = startDeadline(deadlineMs);
    const body = parseInput(routeRequestSchema, req.body, 'body');
    const [chosen, setting] =
      body.policy === 'cost'
        ? [config.ROUTE_COST_PROVIDER, 'ROUTE_COST_PROVIDER']
        : [config.ROUTE_QUALITY_PROVIDER, 'ROUTE_QUALITY_PROVIDER'];
    const { record, failures } = await analyse(deps, requestContext(res), deadline, {
      key: body.key,
      providers: [chosen],
      requestId: body.requestId,
    });
    if (record.status === 'failed') throw allFailed(record, failures);
    sendValidated(res, 200, routeResponseSchema, {
      chosen,
      reason: `the ${body.policy} policy picks ${providerLabel(config, chosen)} (${setting})`,
      result: record,
    });
  });

  return router;
}
