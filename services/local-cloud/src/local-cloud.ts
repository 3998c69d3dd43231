import { Logger } from '@aws-lambda-powertools/logger';
import {
  createDynamoDbClient,
  createProviders,
  createS3Client,
  createSnsClient,
  loadConfig,
  platformNames,
  taskNames,
  type Config,
} from '@mc-vision/core';
import {
  startAzureOpenAiServer,
  startBedrockRuntimeServer,
  type TransformDescription,
} from '@mc-vision/emulators';
import { fetchedModelDir } from '@mc-vision/model-server';
import {
  createIngestHandler,
  createTaskHandler,
  withIngestMetrics,
  withTaskMetrics,
} from '@mc-vision/worker';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { startLocalApi } from './api.ts';
import { buildLocalConfig, planProviders, resolveUserPath, type Env, type ProviderPlan } from './config.ts';
import { lockDataDir } from './data-lock.ts';
import { ensureResultsTable, startDynamoDb } from './dynamodb.ts';
import { consoleLog, type Log } from './log.ts';
import { resolveModel, startClassifier, type ModelChoice } from './model.ts';
import { startLocalMonitoring } from './monitoring.ts';
import { startOutbox, startSns } from './notifications.ts';
import { startLocalStepFunctions, workerFunctionArn } from './pipeline.ts';
import { startS3, type S3Event } from './s3.ts';
import { webDist } from './web-build.ts';

// The whole platform on one machine: DynamoDB, S3, SNS with its outbox, the model server, the Bedrock and
// Azure OpenAI emulators, Step Functions running core's pipeline with the worker's handlers, and the API with
// the UI — wired by one configuration (core's schema) whose endpoint overrides point the real SDK clients at
// the local components. State lives under `dataDir`; a restart loses nothing.

export interface LocalCloudOptions {
  /** Where state lives (created if missing). A relative path is resolved against the current directory. */
  dataDir: string;
  /** The API's port (default `PORT`, else 3000; 0 picks a free one). Everything else uses free ports. */
  port?: number;
  /** Where the API listens (default 127.0.0.1). Every other component listens on 127.0.0.1 only. */
  host?: string;
  /** A model package folder; default `MODEL_DIR`, else the default model folder, else it is downloaded. */
  modelDir?: string;
  /** The environment the configuration is read from (default `process.env`). */
  env?: Env;
  /** Where the local cloud reports what happens (default: readable lines on the console). */
  log?: Log;
  /** The API's request log (Powertools; default INFO, or `POWERTOOLS_LOG_LEVEL`). */
  apiLogger?: Logger;
  /** The built UI served at `/` (default `web/dist` when it has been built). */
  webRoot?: string;
  /** Test hook for both LLM emulators: rewrites their description before the guardrail sees it. */
  transformDescription?: TransformDescription;
}

export interface LocalCloud {
  /** The API and the UI, e.g. http://127.0.0.1:3000 */
  url: string;
  /** The key `/v1/*` accepts (`API_KEY`, or the one kept in `<dataDir>/api-key`). */
  apiKey: string;
  dataDir: string;
  /** Every notification the pipeline sends, one JSON line each. */
  outboxFile: string;
  /** The configuration everything runs with. */
  config: Config;
  /** Each local component's URL, by name. */
  components: Record<string, string>;
  /** Which providers are emulated here (the others go where the configuration points). */
  emulated: ProviderPlan;
  /** The classifier model's name and where it came from, or why there is none. */
  classifier: { model: string; origin: ModelChoice['origin'] } | { unavailable: string };
  close(): Promise<void>;
}

/** Stops what has started, last first, even when one of them fails to stop. */
class Shutdown {
  private readonly steps: { name: string; stop: () => Promise<void> | void }[] = [];
  private readonly log: Log;

  constructor(log: Log) {
    this.log = log;
  }

  add(name: string, stop: () => Promise<void> | void): void {
    this.steps.push({ name, stop });
  }

  async run(): Promise<void> {
    for (const { name, stop } of this.steps.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        this.log({ component: name, level: 'error', message: 'did not stop cleanly', error: String(error) });
      }
    }
  }
}

/** The API's request log: one JSON line per request, at `POWERTOOLS_LOG_LEVEL` (default INFO). */
function apiLogger(config: Config, env: Env): Logger {
  const level = z
    .enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'])
    .safeParse(env.POWERTOOLS_LOG_LEVEL?.toUpperCase());
  return new Logger({ serviceName: config.SERVICE_NAME, ...(level.success ? { logLevel: level.data } : {}) });
}

/** A key kept in a file under the data folder (owner-only), generated on first use. */
async function keptSecret(file: string): Promise<string> {
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (existing.trim().length >= 16) return existing.trim();
  const key = randomBytes(24).toString('base64url');
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return key;
}

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const started = performance.now();
  const env = options.env ?? process.env;
  const log = options.log ?? consoleLog;
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  // The user's own settings first: a bad variable stops here, with all of them listed.
  const userConfig = loadConfig(env);
  const emulated = planProviders(env);
  const shutdown = new Shutdown(log);
  const unlock = await lockDataDir(dataDir);
  shutdown.add('data', unlock);

  try {
    // CloudWatch first: every other part publishes what its AWS service would.
    const monitoring = await startLocalMonitoring({
      config: userConfig,
      dataDir: join(dataDir, 'cloudwatch'),
      log,
    });
    shutdown.add('cloudwatch', () => monitoring.close());
    const names = platformNames(userConfig);
    const serviceMetrics = monitoring.metrics(userConfig.SERVICE_NAME);

    const ingest = withIngestMetrics(
      createIngestHandler({
        logger: {
          info: (message, attributes) => log({ component: 'ingest', level: 'info', message, ...attributes }),
          warn: (message, attributes) => log({ component: 'ingest', level: 'warn', message, ...attributes }),
        },
      }),
      serviceMetrics,
    );
    const onObjectCreated = (event: S3Event) => {
      monitoring
        .invoke(names.functionName('ingest'), () => ingest(event))
        .catch((error: unknown) => {
          log({
            component: 'ingest',
            level: 'error',
            message: 'the ingest handler failed',
            error: String(error),
          });
        });
    };

    const dynamodb = await startDynamoDb(join(dataDir, 'dynamodb'));
    shutdown.add('dynamodb', () => dynamodb.close());
    const s3 = await startS3({
      dir: join(dataDir, 's3'),
      bucket: userConfig.IMAGES_BUCKET,
      region: userConfig.AWS_REGION,
      onObjectCreated,
    });
    shutdown.add('s3', () => s3.close());
    const sns = await startSns();
    shutdown.add('sns', () => sns.close());

    // The classifier serves SageMaker's contract and is what the LLM emulators describe images from.
    const needsModel = emulated.sagemaker || emulated.bedrock || emulated.azure;
    const explicitModelDir = options.modelDir
      ? resolve(options.modelDir)
      : env.MODEL_DIR
        ? resolveUserPath(env.MODEL_DIR, env)
        : undefined;
    const model = needsModel
      ? await resolveModel({ modelDir: explicitModelDir, defaultDir: fetchedModelDir, log })
      : undefined;
    const classifier = model
      ? await startClassifier(
          model,
          {
            maxImageBytes: userConfig.MAX_IMAGE_BYTES,
            maxImagePixels: userConfig.MAX_IMAGE_PIXELS,
            defaultTopK: userConfig.CLASSIFIER_TOP_K,
          },
          log,
          (event) => monitoring.onModelInvocation(event),
        )
      : undefined;
    if (classifier) shutdown.add('model', () => classifier.close());
    const classify = (bytes: Uint8Array) => classifier!.classify(bytes);
    const transform = options.transformDescription
      ? { transformDescription: options.transformDescription }
      : {};

    const bedrock = emulated.bedrock
      ? await startBedrockRuntimeServer({
          classify,
          guardrailId: userConfig.BEDROCK_GUARDRAIL_ID,
          ...transform,
        })
      : undefined;
    if (bedrock) shutdown.add('bedrock', () => bedrock.close());
    const azureKey = emulated.azure
      ? (userConfig.AZURE_OPENAI_API_KEY ?? (await keptSecret(join(dataDir, 'azure-openai-key'))))
      : undefined;
    const azure = azureKey
      ? await startAzureOpenAiServer({
          apiKey: azureKey,
          classify,
          deployments: { [userConfig.AZURE_OPENAI_DEPLOYMENT]: 'gpt-4o-mini-2024-07-18' },
          ...transform,
        })
      : undefined;
    if (azure) shutdown.add('azure', () => azure.close());

    const base = buildLocalConfig(env, {
      dataDir,
      port: options.port ?? userConfig.PORT,
      dynamodb: dynamodb.url,
      s3: s3.url,
      sns: sns.url,
      ...(emulated.sagemaker && classifier ? { sageMakerRuntime: classifier.url } : {}),
      ...(bedrock ? { bedrockRuntime: bedrock.url } : {}),
      ...(azure && azureKey ? { azureOpenAi: { endpoint: azure.url, apiKey: azureKey } } : {}),
      ...(explicitModelDir ? { modelDir: explicitModelDir } : {}),
    });

    const dynamoClient = createDynamoDbClient(base);
    const snsClient = createSnsClient(base);
    shutdown.add('clients', () => {
      dynamoClient.destroy();
      snsClient.destroy();
    });
    if ((await ensureResultsTable(dynamoClient, base.RESULTS_TABLE)) === 'created') {
      log({ component: 'dynamodb', level: 'info', message: `created table ${base.RESULTS_TABLE}` });
    }
    const outboxFile = join(dataDir, 'outbox.jsonl');
    const outbox = await startOutbox({
      config: base,
      sns: snsClient,
      file: outboxFile,
      alarmsTopic: names.alarmsTopic,
      log,
    });
    shutdown.add('outbox', () => outbox.close());
    await monitoring.loadAlarms(outbox.alarmsTopicArn, snsClient);

    // The worker as Lambda runs it: one attempt per provider call, since Step Functions does the retrying.
    const workerConfig: Config = { ...base, PROVIDER_MAX_ATTEMPTS: 1 };
    const workerS3 = createS3Client(workerConfig);
    shutdown.add('worker', () => workerS3.destroy());
    const handleTask = withTaskMetrics(
      createTaskHandler({ config: workerConfig, s3: workerS3, providers: createProviders(workerConfig) }),
      serviceMetrics,
      taskNames,
    );
    const worker = (event: unknown) =>
      monitoring.invoke(names.functionName('worker'), () => handleTask(event));

    // The two values only known now complete the one configuration: the topic's ARN as SNS gave it, and the
    // Step Functions endpoint.
    const withTopic: Config = { ...base, NOTIFY_TOPIC_ARN: outbox.topicArn };
    const stepFunctions = await startLocalStepFunctions({
      config: withTopic,
      dataDir: join(dataDir, 'stepfunctions'),
      tasks: {
        workerFunctionArn: workerFunctionArn(withTopic),
        worker,
        dynamodb: dynamoClient,
        sns: snsClient,
        log,
      },
      onExecution: (event) => monitoring.onExecution(event),
    });
    shutdown.add('stepfunctions', () => stepFunctions.close());
    const config: Config = {
      ...withTopic,
      SFN_ENDPOINT: stepFunctions.url,
      CLOUDWATCH_ENDPOINT: monitoring.url,
    };

    const webRoot = options.webRoot ?? (existsSync(join(webDist, 'index.html')) ? webDist : undefined);
    const emulators: Record<string, string> = {
      ...(bedrock ? { bedrock: bedrock.url } : {}),
      ...(azure ? { azure: azure.url } : {}),
    };
    const api = await startLocalApi({
      config,
      host: options.host ?? '127.0.0.1',
      port: config.PORT,
      logger: options.apiLogger ?? apiLogger(config, env),
      ...(webRoot ? { webRoot } : {}),
      sns: snsClient,
      emulators,
      metrics: serviceMetrics,
      observe: (listener) => monitoring.observeRequests(listener),
    });
    shutdown.add('api', () => api.close());

    const components: Record<string, string> = {
      api: api.url,
      dynamodb: dynamodb.url,
      s3: s3.url,
      sns: sns.url,
      stepFunctions: stepFunctions.url,
      cloudwatch: monitoring.url,
      ...(classifier ? { modelServer: classifier.url } : {}),
      ...emulators,
    };
    log({
      component: 'local',
      level: 'info',
      message: `up in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      url: api.url,
    });

    let closing: Promise<void> | undefined;
    return {
      url: api.url,
      apiKey: api.apiKey,
      dataDir,
      outboxFile,
      config,
      components,
      emulated,
      classifier:
        classifier?.model !== undefined && model
          ? { model: classifier.model, origin: model.origin }
          : {
              unavailable: classifier?.unavailable ?? 'no provider is emulated: the classifier is not needed',
            },
      close: () => (closing ??= shutdown.run()),
    };
  } catch (error) {
    await shutdown.run();
    throw error;
  }
}
