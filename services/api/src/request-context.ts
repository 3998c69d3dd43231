import type { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, LogItemExtraInput } from '@aws-lambda-powertools/logger/types';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { customMetrics as m } from '@mc-vision/core/monitoring/metrics';
import type { Request, RequestHandler, Response } from 'express';
import { randomUUID } from 'node:crypto';

/** The logging a route does: each line stamped with the request's id. */
export type RequestLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** What the API keeps per request: its id, a logger that stamps every line with it, and timing. */
export interface RequestContext {
  requestId: string;
  logger: RequestLogger;
  startedAt: bigint;
  /** The contract error code the request ended with, for the request log line. */
  error?: string;
}

/** A caller's `x-request-id` is kept when it is a plain token; anything else is replaced. */
const wellFormedRequestId = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function requestContext(res: Response): RequestContext {
  return res.locals.context as RequestContext;
}

/** The route pattern (`/v1/results/:requestId`), not the raw path: a low-cardinality metric dimension. */
function routeLabel(req: Request, res: Response): string {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof pattern === 'string') return `${req.method} ${pattern}`;
  return res.locals.routeLabel ?? 'unmatched';
}

/**
 * `logger`, with `requestId` on every line. Not `logger.createChild()`: that builds a whole Logger (reading its
 * settings from the environment again), a cost paid on every request for lines most requests never write.
 */
function requestLogger(logger: Logger, requestId: string): RequestLogger {
  const id = { requestId };
  // An error or a string as the one extra argument goes under the key Powertools itself would use.
  const stamped = (extra: LogItemExtraInput): LogAttributes[] => {
    const [first] = extra;
    if (first instanceof Error) return [{ error: first }, id];
    if (typeof first === 'string') return [{ extra: first }, id];
    return [...(extra as LogAttributes[]), id];
  };
  return {
    debug: (input, ...extra) => logger.debug(input, ...stamped(extra)),
    info: (input, ...extra) => logger.info(input, ...stamped(extra)),
    warn: (input, ...extra) => logger.warn(input, ...stamped(extra)),
    error: (input, ...extra) => logger.error(input, ...stamped(extra)),
  };
}

export interface RequestContextOptions {
  logger: Logger;
  metrics?: Metrics;
}

/**
 * First middleware: assigns the request id (echoed in `x-request-id`), and when the response is done writes one
 * JSON log line and one EMF metrics line (latency, success / client error / failure) for the route.
 */
export function requestContextMiddleware({ logger, metrics }: RequestContextOptions): RequestHandler {
  return (req, res, next) => {
    const offered = req.get('x-request-id');
    const requestId = offered && wellFormedRequestId.test(offered) ? offered : randomUUID();
    const context: RequestContext = {
      requestId,
      logger: requestLogger(logger, requestId),
      startedAt: process.hrtime.bigint(),
    };
    res.locals.context = context;
    res.set('x-request-id', requestId);

    res.once('finish', () => {
      const latencyMs = Number(process.hrtime.bigint() - context.startedAt) / 1e6;
      const route = routeLabel(req, res);
      const status = res.statusCode;
      context.logger.info('request', {
        method: req.method,
        route,
        path: req.path,
        status,
        latencyMs: Math.round(latencyMs * 10) / 10,
        ...(context.error ? { error: context.error } : {}),
      });
      if (metrics) {
        // One synchronous block per request, so concurrent requests never mix dimensions in the shared buffer.
        // By route, and (an empty extra dimension set) by service alone: the whole API's latency.
        metrics.addDimension(m.routeDimension, route);
        metrics.addDimensions({});
        metrics.addMetric(m.requestLatency, MetricUnit.Milliseconds, latencyMs);
        metrics.addMetric(m.requestSucceeded, MetricUnit.Count, status < 400 ? 1 : 0);
        metrics.addMetric(m.requestClientError, MetricUnit.Count, status >= 400 && status < 500 ? 1 : 0);
        metrics.addMetric(m.requestFailed, MetricUnit.Count, status >= 500 ? 1 : 0);
        metrics.publishStoredMetrics();
      }
    });
    next();
  };
}
