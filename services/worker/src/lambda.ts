// The Lambda entries: `taskHandler` (invoked by Step Functions) and `ingestHandler` (S3 ObjectCreated).
// Wiring only: logging, metrics and tracing around the handlers of task-handler.ts and ingest-handler.ts,
// which take their dependencies as arguments and run anywhere (the local cloud calls them directly).
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  createProviders,
  createS3Client,
  loadConfig,
  taskNames,
  workerMetrics,
  type Config,
  type TaskName,
} from '@mc-vision/core';
import type { Context } from 'aws-lambda';
import { createIngestHandler, type IngestSummary } from './ingest-handler.ts';
import { createTaskHandler, type TaskHandler, type TaskOutput } from './task-handler.ts';

// A configuration error stops the function at init, listing every bad variable. One attempt per provider
// call: Step Functions retries the task with backoff, and SDK retries inside would multiply its attempts.
const config: Config = { ...loadConfig(), PROVIDER_MAX_ATTEMPTS: 1 };
const logger = new Logger({ serviceName: config.SERVICE_NAME });
const metrics = new Metrics({ namespace: workerMetrics.namespace, serviceName: config.SERVICE_NAME });
const tracer = new Tracer({ serviceName: config.SERVICE_NAME });

/** Seconds a read Azure OpenAI key is cached; a rotated key is picked up within this time. */
const secretMaxAgeSeconds = 300;

/** In the cloud the key is a Secrets Manager secret (plain string); locally `AZURE_OPENAI_API_KEY`. */
function azureApiKeyReader(config: Config): (() => Promise<string>) | undefined {
  const secretArn = config.AZURE_OPENAI_KEY_SECRET_ARN;
  if (!secretArn) return undefined;
  const client = new SecretsManagerClient({
    region: config.AWS_REGION,
    ...(config.SECRETS_MANAGER_ENDPOINT ? { endpoint: config.SECRETS_MANAGER_ENDPOINT } : {}),
  });
  const secrets = new SecretsProvider({ awsSdkV3Client: tracer.captureAWSv3Client(client) });
  return async () => {
    const value = await secrets.get(secretArn, { maxAge: secretMaxAgeSeconds });
    if (typeof value !== 'string' || value === '') {
      throw new Error('the Azure OpenAI key secret has no string value');
    }
    return value;
  };
}

// Built on first use, so the ingest function (same image) never creates provider clients.
let handleTask: TaskHandler | undefined;
function taskHandlerInstance(): TaskHandler {
  if (!handleTask) {
    const azureApiKey = azureApiKeyReader(config);
    handleTask = createTaskHandler({
      config,
      s3: tracer.captureAWSv3Client(createS3Client(config)),
      providers: createProviders(config, {
        ...(azureApiKey ? { azureApiKey } : {}),
        instrumentAwsClient: (client) => tracer.captureAWSv3Client(client),
      }),
    });
  }
  return handleTask;
}

const handleIngest = createIngestHandler({ logger });

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

function taskNameOf(event: unknown): TaskName | 'invalid' {
  const task = event && typeof event === 'object' && 'task' in event ? event.task : undefined;
  return taskNames.find((name) => name === task) ?? 'invalid';
}

function requestIdOf(event: unknown): string | undefined {
  const id = event && typeof event === 'object' && 'requestId' in event ? event.requestId : undefined;
  return typeof id === 'string' ? id.slice(0, 64) : undefined;
}

export async function taskHandler(event: unknown, context: Context): Promise<TaskOutput> {
  const task = taskNameOf(event);
  logger.addContext(context);
  // The pipeline's requestId correlates every line of one image's run across tasks.
  logger.appendKeys({ task, requestId: requestIdOf(event) });
  metrics.captureColdStartMetric();
  metrics.addDimension(workerMetrics.taskDimension, task);
  tracer.putAnnotation('task', task);
  const started = performance.now();
  try {
    const output = await traced(task, () => taskHandlerInstance()(event));
    metrics.addMetric(workerMetrics.taskSucceeded, MetricUnit.Count, 1);
    logger.info('task succeeded');
    return output;
  } catch (error) {
    metrics.addMetric(workerMetrics.taskFailed, MetricUnit.Count, 1);
    // Logged by name and message only: provider errors may carry request bodies in their causes.
    const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
    logger.error('task failed', { error: { name, message } });
    throw error;
  } finally {
    metrics.addMetric(workerMetrics.taskLatency, MetricUnit.Milliseconds, performance.now() - started);
    metrics.publishStoredMetrics();
    logger.resetKeys();
  }
}

export async function ingestHandler(event: unknown, context: Context): Promise<IngestSummary> {
  logger.addContext(context);
  const summary = await traced('ingest', async () => handleIngest(event));
  metrics.addMetric(workerMetrics.imagesIngested, MetricUnit.Count, summary.logged);
  metrics.addMetric(workerMetrics.ingestRecordsSkipped, MetricUnit.Count, summary.skipped);
  metrics.publishStoredMetrics();
  return summary;
}
