import type { HealthResponse } from '@mc-vision/core/schemas';
import { networkErrorCode } from './errors.ts';

// What `/health` reports and how often it asks (no AWS SDK here: the checks themselves, health-checks.ts, are
// built with the services on first use).

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
