import { Logger } from '@aws-lambda-powertools/logger';
import {
  BatchRecords,
  createDynamoDbClient,
  createProviders,
  createS3Client,
  createSfnClient,
  createSnsClient,
  loadConfig,
  platformNames,
  taskNames,
  type Config,
} from '@mc-vision/core';
import {
  startAzureOpenAiServer,
  startBedrockRuntimeServer,
  type EmulatorServer,
  type TransformDescription,
} from '@mc-vision/emulators';
import { fetchedModelDir } from '@mc-vision/model-server';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import {
  createIngestHandler,
  createTaskHandler,
  withIngestMetrics,
  withTaskMetrics,
} from '@mc-vision/worker';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { listenForApi, type ApiListener } from './api.ts';
import { buildLocalConfig, planProviders, resolveUserPath, type Env, type ProviderPlan } from './config.ts';
import { dataEntries, keptSecret, newRunSecrets, prepareDataDir } from './data-dir.ts';
import { lockDataDir } from './data-lock.ts';
import { ensureResultsTable } from './results-table.ts';
import { consoleLog, type Log } from './log.ts';
import { resolveModel, startClassifier, type ModelChoice } from './model.ts';
import { startLocalMonitoring, type LocalMonitoring } from './monitoring.ts';
import { startOutbox } from './notifications.ts';
import { startLocalStepFunctions, workerFunctionArn } from './pipeline.ts';
import type { S3Event } from './s3.ts';
import { closeParts, isComponent, type Component, type Part } from './server.ts';
import { startStorage } from './storage-thread.ts';
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
  /** Test hook: milliseconds between a state's retries instead of its backoff (aws-local-stepfunctions' override). */
  retryIntervalOverrides?: Record<string, number | number[]>;
}

export interface LocalCloud {
  /** The API and the UI, e.g. http://127.0.0.1:3000 */
  url: string;
  /** The key `/v1/*` accepts (`API_KEY`, or the one kept in `<dataDir>/api-key`). */
  apiKey: string;
  /**
   * The UI's sign-in link, `<url>/#code=<code>`: the UI exchanges the code for the key once, so the link a
   * browser keeps in its history holds no key. One use per run.
   */
  signInUrl: string;
  /**
   * This run's token for the emulators' fault and admin routes (`Authorization: Bearer <token>`), new at every
   * start and kept in `<dataDir>/admin-token`.
   */
  adminToken: string;
  dataDir: string;
  /** Every notification the pipeline sends, one JSON line each. */
  outboxFile: string;
  /** The configuration everything runs with. */
  config: Config;
  /** Every part that listens, in the order they started (the reverse of the order they stop in). */
  components: readonly LocalComponent[];
  /** Which providers are emulated here (the others go where the configuration points). */
  emulated: ProviderPlan;
  /** The classifier model's name and where it came from, or why there is none. */
  classifier: { model: string; origin: ModelChoice['origin'] } | { unavailable: string };
  close(): Promise<void>;
}

/** A listening part of the local cloud, as `pnpm start` lists it. */
export type LocalComponent = Pick<Component, 'name' | 'url' | 'description'>;

/** The API's request log: one JSON line per request, at `POWERTOOLS_LOG_LEVEL` (default INFO). */
function apiLogger(config: Config, env: Env): Logger {
  const level = z
    .enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'])
    .safeParse(env.POWERTOOLS_LOG_LEVEL?.toUpperCase());
  return new Logger({ serviceName: config.SERVICE_NAME, ...(level.success ? { logLevel: level.data } : {}) });
}

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const started = performance.now();
  const env = options.env ?? process.env;
  const log = options.log ?? consoleLog;
  const dataDir = resolve(options.dataDir);
  await prepareDataDir(dataDir);
  // The user's own settings first: a bad variable stops here, with all of them listed.
  const userConfig = loadConfig(env);
  const emulated = planProviders(env);

  // Everything that runs, in the order it started: the banner's list, `components` and the shutdown order
  // (the reverse) all come from this one array. A new part is one `start(...)` line.
  const parts: Part[] = [];
  const start: Start = async (part) => {
    const running = await part;
    parts.push(running);
    return running;
  };
  await start({ name: 'data', close: await lockDataDir(dataDir) });
  const { adminToken, credentials, signInCode } = await newRunSecrets(dataDir);
  let apiListener: ApiListener | undefined;

  try {
    // The API's port first: a taken port fails the start before anything else runs, and the worker's
    // notifications can link to the API.
    apiListener = await listenForApi(options.host ?? '127.0.0.1', options.port ?? userConfig.PORT);
    // CloudWatch first: every other part publishes what its AWS service would.
    const monitoring = await start(
      startLocalMonitoring({
        config: userConfig,
        dataDir: join(dataDir, dataEntries.folders.cloudwatch),
        log,
      }),
    );
    const names = platformNames(userConfig);
    const serviceMetrics = monitoring.metrics(userConfig.SERVICE_NAME);
    // DynamoDB, S3 and SNS answer on a thread of their own (storage-thread.ts).
    const storage = await startStorage({
      dynamodb: { dir: join(dataDir, dataEntries.folders.dynamodb) },
      s3: {
        dir: join(dataDir, dataEntries.folders.s3),
        bucket: userConfig.IMAGES_BUCKET,
        region: userConfig.AWS_REGION,
      },
      credentials,
      onObjectCreated: ingestHandler(log, monitoring, serviceMetrics, names.functionName('ingest')),
    });
    const dynamodb = await start(storage.dynamodb);
    const s3 = await start(storage.s3);
    const sns = await start(storage.sns);

    const { model, classifier, bedrock, azure, azureKey, explicitModelDir } = await startProviders(start, {
      options,
      env,
      userConfig,
      emulated,
      dataDir,
      adminToken,
      monitoring,
      log,
    });

    const base = buildLocalConfig(env, {
      dataDir,
      api: { port: apiListener.port, url: apiListener.url },
      credentials,
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
    await start({
      name: 'clients',
      close: () => {
        dynamoClient.destroy();
        snsClient.destroy();
      },
    });
    const table = await ensureResultsTable(dynamoClient, base.RESULTS_TABLE);
    if (table !== 'found') {
      log({ component: 'dynamodb', level: 'info', message: `${table} table ${base.RESULTS_TABLE}` });
    }
    const outboxFile = join(dataDir, 'outbox.jsonl');
    const outbox = await start(
      startOutbox({ config: base, sns: snsClient, file: outboxFile, alarmsTopic: names.alarmsTopic, log }),
    );
    await monitoring.loadAlarms(outbox.alarmsTopicArn, snsClient);

    // The worker as Lambda runs it: one attempt per provider call, since Step Functions does the retrying.
    const workerConfig: Config = { ...base, PROVIDER_MAX_ATTEMPTS: 1 };
    const workerS3 = createS3Client(workerConfig);
    // The batch summary asks Step Functions about its map run: the endpoint is known once it has started.
    const stepFunctionsEndpoint: { url?: string } = {};
    const workerSfn = () => createSfnClient({ ...workerConfig, SFN_ENDPOINT: stepFunctionsEndpoint.url });
    let batches: { sfn: ReturnType<typeof createSfnClient>; records: BatchRecords } | undefined;
    await start({
      name: 'worker',
      close: () => {
        workerS3.destroy();
        batches?.sfn.destroy();
      },
    });
    const handleTask = withTaskMetrics(
      createTaskHandler({
        config: workerConfig,
        s3: workerS3,
        providers: createProviders(workerConfig),
        batches: () =>
          (batches ??= { sfn: workerSfn(), records: new BatchRecords(dynamoClient, base.RESULTS_TABLE) }),
      }),
      serviceMetrics,
      taskNames,
    );
    const worker = (event: unknown) =>
      monitoring.invoke(names.functionName('worker'), () => handleTask(event));

    // The two values only known now complete the one configuration: the topic's ARN as SNS gave it, and the
    // Step Functions endpoint.
    const withTopic: Config = { ...base, NOTIFY_TOPIC_ARN: outbox.topicArn };
    const stepFunctions = await start(
      emulator(
        'stepfunctions',
        "emulator running core's pipeline and batches",
        startLocalStepFunctions({
          config: withTopic,
          adminToken,
          dataDir: join(dataDir, dataEntries.folders.stepFunctions),
          tasks: {
            workerFunctionArn: workerFunctionArn(withTopic),
            worker,
            dynamodb: dynamoClient,
            sns: snsClient,
            log,
          },
          s3: workerS3,
          ...(options.retryIntervalOverrides
            ? { retryIntervalOverrides: options.retryIntervalOverrides }
            : {}),
          onExecution: (event) => monitoring.onExecution(event),
        }),
      ),
    );
    stepFunctionsEndpoint.url = stepFunctions.url;
    const config: Config = {
      ...withTopic,
      SFN_ENDPOINT: stepFunctions.url,
      CLOUDWATCH_ENDPOINT: monitoring.url,
    };

    const webRoot = options.webRoot ?? (existsSync(join(webDist, 'index.html')) ? webDist : undefined);
    const api = await start(
      apiListener.serve({
        config,
        logger: options.apiLogger ?? apiLogger(config, env),
        ...(webRoot ? { webRoot } : {}),
        sns: snsClient,
        emulators: [bedrock, azure].filter((part) => part !== undefined),
        adminToken,
        signInCode,
        metrics: serviceMetrics,
        observe: (listener) => monitoring.observeRequests(listener),
      }),
    );
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
      signInUrl: api.signInUrl,
      adminToken,
      dataDir,
      outboxFile,
      config,
      components: parts.filter(isComponent).map(({ name, url, description }) => ({ name, url, description })),
      emulated,
      classifier:
        classifier?.model !== undefined && model
          ? { model: classifier.model, origin: model.origin }
          : {
              unavailable: classifier?.unavailable ?? 'no provider is emulated: the classifier is not needed',
            },
      close: () => (closing ??= closeParts(parts.splice(0), log)),
    };
  } catch (error) {
    await apiListener?.close();
    await closeParts(parts.splice(0), log);
    throw error;
  }
}

type Start = <P extends Part>(part: P | Promise<P>) => Promise<P>;

interface ProvidersContext {
  options: LocalCloudOptions;
  env: Env;
  userConfig: Config;
  emulated: ProviderPlan;
  dataDir: string;
  adminToken: string;
  monitoring: LocalMonitoring;
  log: Log;
}

/** The classifier (when anything needs it) and the LLM emulators of the providers that are emulated. */
async function startProviders(start: Start, context: ProvidersContext) {
  const { options, env, userConfig, emulated, dataDir, adminToken, monitoring, log } = context;
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
    ? await start(
        startClassifier(
          model,
          {
            maxImageBytes: userConfig.MAX_IMAGE_BYTES,
            maxImagePixels: userConfig.MAX_IMAGE_PIXELS,
            defaultTopK: userConfig.CLASSIFIER_TOP_K,
            endpointName: userConfig.SAGEMAKER_ENDPOINT_NAME,
          },
          log,
          emulated.sagemaker ? 'sagemaker' : 'classifier',
          (event) => monitoring.onModelInvocation(event),
        ),
      )
    : undefined;
  const classify = (bytes: Uint8Array) => classifier!.classify(bytes);
  const transform = options.transformDescription
    ? { transformDescription: options.transformDescription }
    : {};

  const bedrock = emulated.bedrock
    ? await start(
        emulator(
          'bedrock',
          'emulator: Converse and ApplyGuardrail',
          startBedrockRuntimeServer({
            adminToken,
            classify,
            guardrailId: userConfig.BEDROCK_GUARDRAIL_ID,
            guardrailVersion: userConfig.BEDROCK_GUARDRAIL_VERSION,
            ...transform,
          }),
        ),
      )
    : undefined;
  const azureKey = emulated.azure
    ? (userConfig.AZURE_OPENAI_API_KEY ?? (await keptSecret(join(dataDir, 'azure-openai-key'))))
    : undefined;
  const azure = azureKey
    ? await start(
        emulator(
          'azure',
          'emulator: chat completions',
          startAzureOpenAiServer({
            adminToken,
            apiKey: azureKey,
            classify,
            deployments: { [userConfig.AZURE_OPENAI_DEPLOYMENT]: 'gpt-4o-mini-2024-07-18' },
            ...transform,
          }),
        ),
      )
    : undefined;
  return { model, classifier, bedrock, azure, azureKey, explicitModelDir };
}

/**
 * The worker's ingest handler as S3's notifications reach it, with its metrics and as Lambda would count the
 * invocation: it only logs, and never fails the upload.
 */
function ingestHandler(
  log: Log,
  monitoring: LocalMonitoring,
  metrics: Metrics,
  functionName: string,
): (event: S3Event) => void {
  const ingest = withIngestMetrics(
    createIngestHandler({
      logger: {
        info: (message, attributes) => log({ component: 'ingest', level: 'info', message, ...attributes }),
        warn: (message, attributes) => log({ component: 'ingest', level: 'warn', message, ...attributes }),
      },
    }),
    metrics,
  );
  return (event: S3Event) => {
    monitoring
      .invoke(functionName, () => ingest(event))
      .catch((error: unknown) => {
        log({
          component: 'ingest',
          level: 'error',
          message: 'the ingest handler failed',
          error: String(error),
        });
      });
  };
}

/** One of `@mc-vision/emulators`' servers as a part of the local cloud. */
async function emulator(
  name: string,
  description: string,
  server: Promise<EmulatorServer>,
): Promise<Component> {
  const { url, close } = await server;
  return { name, description, url, close };
}
