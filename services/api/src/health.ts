import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { DescribeStateMachineCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { Config, HealthResponse } from '@mc-vision/core';
import * as z from 'zod';
import { networkErrorCode } from './errors.ts';

/** A check's own verdict (`table is CREATING`), safe to show on an unauthenticated route. */
export class Unhealthy extends Error {
  override readonly name = 'Unhealthy';
}

/** One dependency `/health` looks at. A required one that is down makes the API answer 503. */
export interface HealthCheck {
  name: string;
  required: boolean;
  /** Resolves when the dependency is usable; may resolve with a short detail. Must honour `signal`. */
  check(signal: AbortSignal): Promise<string | void>;
}

export interface HealthClients {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  sfn: SFNClient;
}

/**
 * One cheap read per dependency: the images bucket, the results table, the state machine (required: no route
 * works without them) and the classifier endpoint (not required: the LLM providers still answer without it).
 * In the cloud these need s3:ListBucket, dynamodb:DescribeTable, states:DescribeStateMachine and
 * sagemaker:DescribeEndpoint on exactly those resources.
 */
export function createHealthChecks(config: Config, clients: HealthClients): HealthCheck[] {
  return [
    {
      name: 'imagesBucket',
      required: true,
      check: async (abortSignal) => {
        await clients.s3.send(new HeadBucketCommand({ Bucket: config.IMAGES_BUCKET }), { abortSignal });
      },
    },
    {
      name: 'resultsTable',
      required: true,
      check: async (abortSignal) => {
        const { Table } = await clients.dynamodb.send(
          new DescribeTableCommand({ TableName: config.RESULTS_TABLE }),
          { abortSignal },
        );
        if (Table?.TableStatus !== 'ACTIVE')
          throw new Unhealthy(`table is ${Table?.TableStatus ?? 'missing'}`);
      },
    },
    {
      name: 'stateMachine',
      required: true,
      check: async (abortSignal) => {
        const { status } = await clients.sfn.send(
          new DescribeStateMachineCommand({ stateMachineArn: config.STATE_MACHINE_ARN }),
          { abortSignal },
        );
        if (status && status !== 'ACTIVE') throw new Unhealthy(`state machine is ${status}`);
      },
    },
    classifierCheck(config),
  ];
}

const pingReadySchema = z.object({ model: z.string() });
const pingFailureSchema = z.object({ error: z.object({ message: z.string() }) });

function classifierCheck(config: Config): HealthCheck {
  const endpoint = config.SAGEMAKER_RUNTIME_ENDPOINT;
  if (endpoint) {
    // On a laptop the runtime endpoint is the model server itself: SageMaker's `GET /ping` names the model it
    // serves, or says why it is not ready.
    return {
      name: 'classifier',
      required: false,
      check: async (signal) => {
        const response = await fetch(new URL('/ping', endpoint), { signal });
        const body: unknown = await response.json().catch(() => undefined);
        if (response.ok) {
          const ready = pingReadySchema.safeParse(body);
          return ready.success ? `model ${ready.data.model}` : undefined;
        }
        const failure = pingFailureSchema.safeParse(body);
        throw new Unhealthy(
          failure.success ? failure.data.error.message : `ping answered ${response.status}`,
        );
      },
    };
  }
  // DescribeEndpoint is the one call that tells whether the endpoint is InService without invoking the model
  // (which would wake a serverless endpoint and bill an inference). Its SDK is loaded on the first check: no
  // route needs the control plane.
  let readStatus: Promise<(name: string, signal: AbortSignal) => Promise<string | undefined>> | undefined;
  return {
    name: 'classifier',
    required: false,
    check: async (abortSignal) => {
      readStatus ??= import('./sagemaker-endpoint.ts').then((m) => m.endpointStatusReader(config.AWS_REGION));
      const EndpointStatus = await (await readStatus)(config.SAGEMAKER_ENDPOINT_NAME, abortSignal);
      if (EndpointStatus !== 'InService') throw new Unhealthy(`endpoint is ${EndpointStatus}`);
    },
  };
}

/** Error names and codes only: SDK messages can carry ARNs and addresses, which `/health` does not publish. */
function describeFailure(error: unknown): string {
  if (error instanceof Unhealthy) return error.message;
  const code = networkErrorCode(error) ?? (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : 'unknown error';
}

export interface HealthReport {
  /** Every required component is up. */
  ready: boolean;
  components: HealthResponse['components'];
}

/** Runs every check in parallel, each cut off after `timeoutMs`. */
export async function runHealthChecks(
  checks: readonly HealthCheck[],
  timeoutMs: number,
): Promise<HealthReport> {
  const outcomes = await Promise.all(
    checks.map(async (check) => {
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const detail = await check.check(signal);
        return { check, status: 'up' as const, ...(detail ? { detail } : {}) };
      } catch (error) {
        const detail = signal.aborted ? `no answer within ${timeoutMs} ms` : describeFailure(error);
        return { check, status: 'down' as const, detail: detail.slice(0, 200) };
      }
    }),
  );
  return {
    ready: outcomes.every((o) => o.status === 'up' || !o.check.required),
    components: Object.fromEntries(
      outcomes.map(({ check, status, ...rest }) => [check.name, { status, ...rest }]),
    ),
  };
}

export interface HealthCacheOptions {
  timeoutMs: number;
  /** How long a report is served after its checks started. */
  maxAgeMs: number;
  /** The clock, in milliseconds (tests pass their own). */
  now?: () => number;
}

/**
 * `/health` needs no key, so any caller could otherwise multiply calls to every dependency at will. The
 * checks run at most once per `maxAgeMs` per process: callers meanwhile get the last report, and callers
 * arriving while the checks run wait for those same checks. A component that goes down shows in the first
 * report started after it did, so at most `maxAgeMs` (plus the checks' own time) later.
 */
export function cachedHealthChecks(
  checks: readonly HealthCheck[],
  options: HealthCacheOptions,
): () => Promise<HealthReport> {
  const { timeoutMs, maxAgeMs, now = Date.now } = options;
  let latest: { startedAt: number; report: Promise<HealthReport> } | undefined;
  return () => {
    const time = now();
    if (!latest || time - latest.startedAt >= maxAgeMs) {
      latest = { startedAt: time, report: runHealthChecks(checks, timeoutMs) };
    }
    return latest.report;
  };
}
