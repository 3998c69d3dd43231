// The Lambda entries: `taskHandler` (invoked by Step Functions) and `ingestHandler` (S3 ObjectCreated).
// Wiring only: logging, metrics and tracing around the handlers of task-handler.ts and ingest-handler.ts,
// which take their dependencies as arguments and run anywhere (the local cloud calls them directly).
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { cloudRequirements, loadConfig, type Config } from '@mc-vision/core/config/index';
import { customMetrics } from '@mc-vision/core/monitoring/metrics';
import { taskNames } from '@mc-vision/core/pipeline/index';
import type { Context } from 'aws-lambda';
import { createIngestHandler, type IngestSummary } from './ingest-handler.ts';
import { taskNameOf, withIngestMetrics, withTaskMetrics } from './metrics.ts';
import type { TaskHandler, TaskOutput } from './task-handler.ts';

// The task and ingest functions run this one module with different environments: at init it asks only for
// what both need (the ingest function's environment has little more than its service name); the task
// handler checks its own settings when it is first built. Either way a configuration error lists every bad or
// missing variable at once.
const config: Config = loadConfig(process.env, { requiredInCloud: cloudRequirements.ingest });
const logger = new Logger({ serviceName: config.SERVICE_NAME });
const metrics = new Metrics({ namespace: customMetrics.namespace, serviceName: config.SERVICE_NAME });
const tracer = new Tracer({ serviceName: config.SERVICE_NAME });

// Built on the first task (task-wiring.ts, loaded then), so the ingest function never loads the clients. A
// failure (a missing setting) is not kept: each task reports it until the environment is fixed.
let handleTask: Promise<TaskHandler> | undefined;
function taskHandlerInstance(): Promise<TaskHandler> {
  if (!handleTask) {
    // Its metrics (metrics.ts): succeeded or failed, latency, and what a built record says.
    handleTask = import('./task-wiring.ts').then(({ buildTaskHandler }) =>
      withTaskMetrics(buildTaskHandler(tracer), metrics, taskNames),
    );
    handleTask.catch(() => (handleTask = undefined));
  }
  return handleTask;
}

const handleIngest = withIngestMetrics(createIngestHandler({ logger }), metrics);

/** Runs `work` in its own X-Ray subsegment, as Powertools' manual instrumentation does. */
async function traced<T>(name: string, work: () => Promise<T>): Promise<T> {
  const segment = tracer.getSegment();
  const subsegment = segment?.addNewSubsegment(`## ${name}`);
  if (subsegment) tracer.setSegment(subsegment);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  try {
    return await work();
  } catch (error) {
    if (error instanceof Error) tracer.addErrorAsMetadata(error);
    throw error;
  } finally {
    subsegment?.close();
    if (segment) tracer.setSegment(segment);
  }
}

/**
 * Name and message of an error and of its cause: the cause holds the service's own text, which the
 * error's message leaves out and only the logs keep. Never the objects themselves: SDK errors carry the
 * request and response.
 */
function errorSummary(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const { name, message, cause } = error;
  return cause === undefined || depth >= 2
    ? { name, message }
    : { name, message, cause: errorSummary(cause, depth + 1) };
}

function requestIdOf(event: unknown): string | undefined {
  const id = event && typeof event === 'object' && 'requestId' in event ? event.requestId : undefined;
  return typeof id === 'string' ? id.slice(0, 64) : undefined;
}

export async function taskHandler(event: unknown, context: Context): Promise<TaskOutput> {
  const task = taskNameOf(event, taskNames);
  logger.addContext(context);
  // The pipeline's requestId correlates every line of one image's run across tasks.
  logger.appendKeys({ task, requestId: requestIdOf(event) });
  metrics.captureColdStartMetric();
  tracer.putAnnotation('task', task);
  try {
    const output = await traced(task, async () => (await taskHandlerInstance())(event));
    logger.info('task succeeded');
    return output;
  } catch (error) {
    logger.error('task failed', { error: errorSummary(error) });
    throw error;
  } finally {
    logger.resetKeys();
  }
}

export async function ingestHandler(event: unknown, context: Context): Promise<IngestSummary> {
  logger.addContext(context);
  return traced('ingest', async () => handleIngest(event));
}
