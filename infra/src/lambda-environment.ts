import { Token } from 'cdktf';
import {
  cloudRequirements,
  ConfigError,
  loadConfig,
  toEnvironment,
  type Config,
} from '@mc-vision/core/config/index';
import type { FunctionRole } from './names';

// The Lambda functions' environment, rendered from the core's config schema: the same `loadConfig` the
// functions run at startup, with the same list of settings each must be given in the cloud
// (`cloudRequirements`), validates it here, at synth time, so a bad or forgotten value fails `pnpm synth`
// instead of a cold start.

/** What the infra knows only as Terraform references (ids and ARNs AWS generates). */
export interface GeneratedValues {
  guardrailId: string;
  guardrailVersion: string;
  azureKeySecretArn: string;
  apiKeysSecretArn: string;
  /** The HTTP API in front of the API function (its metrics' `ApiId`). */
  httpApiId: string;
  /** The HTTP API's URL, which the worker's result notices link to (known once the API exists). */
  apiBaseUrl?: string;
}

/** Names and ARNs the infra derives from configuration. */
export interface KnownValues {
  imagesBucket: string;
  resultsTable: string;
  notifyTopicArn: string;
  stateMachineArn: string;
  /** The batch state machines, by the source they read their images from. */
  batchStateMachineArns: { prefix: string; keys: string };
  sagemakerEndpoint: string;
  azureOpenAiEndpoint: string;
}

/** Lambda's limit on the environment: 4 KB of keys and values together. */
const maxEnvironmentBytes = 4096;
/** Room kept for each value Terraform fills in at apply time (the longest is a secret ARN, ~110 bytes). */
const generatedValueBytes = 160;

/** Variables Lambda sets itself and refuses in a function's configuration. */
const reservedKeys = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_LAMBDA_FUNCTION_NAME', '_HANDLER'];

export function lambdaEnvironment(
  role: FunctionRole,
  config: Config,
  known: KnownValues,
  generated: GeneratedValues,
  timeoutSeconds: number,
): Record<string, string> {
  const base: Partial<Config> = {
    MODE: 'aws',
    // One service name for the platform: the function is a dimension and a log group of its own, and the
    // monitoring definition names the platform's metrics by it (`service`).
    SERVICE_NAME: config.SERVICE_NAME,
    IMAGES_BUCKET: known.imagesBucket,
  };
  const providers: Partial<Config> = {
    RESULTS_TABLE: known.resultsTable,
    RESULT_TTL_DAYS: config.RESULT_TTL_DAYS,
    SAGEMAKER_ENDPOINT_NAME: known.sagemakerEndpoint,
    CLASSIFIER_TOP_K: config.CLASSIFIER_TOP_K,
    BEDROCK_MODEL_ID: config.BEDROCK_MODEL_ID,
    BEDROCK_GUARDRAIL_ID: generated.guardrailId,
    BEDROCK_GUARDRAIL_VERSION: generated.guardrailVersion,
    AZURE_OPENAI_ENDPOINT: known.azureOpenAiEndpoint,
    AZURE_OPENAI_DEPLOYMENT: config.AZURE_OPENAI_DEPLOYMENT,
    AZURE_OPENAI_API_VERSION: config.AZURE_OPENAI_API_VERSION,
    AZURE_OPENAI_KEY_SECRET_ARN: generated.azureKeySecretArn,
    LLM_IMAGE_MAX_EDGE: config.LLM_IMAGE_MAX_EDGE,
    LLM_MAX_OUTPUT_TOKENS: config.LLM_MAX_OUTPUT_TOKENS,
    PROVIDER_TIMEOUT_MS: config.PROVIDER_TIMEOUT_MS,
    MAX_IMAGE_BYTES: config.MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS: config.MAX_IMAGE_PIXELS,
  };
  const values: Record<FunctionRole, Partial<Config>> = {
    api: {
      ...base,
      ...providers,
      PROVIDER_MAX_ATTEMPTS: config.PROVIDER_MAX_ATTEMPTS,
      STATE_MACHINE_ARN: known.stateMachineArn,
      BATCH_PREFIX_STATE_MACHINE_ARN: known.batchStateMachineArns.prefix,
      BATCH_KEYS_STATE_MACHINE_ARN: known.batchStateMachineArns.keys,
      BATCH_MAX_ITEMS: config.BATCH_MAX_ITEMS,
      NOTIFY_TOPIC_ARN: known.notifyTopicArn,
      API_KEYS_SECRET_ARN: generated.apiKeysSecretArn,
      // What the monitoring view needs to name the platform's metrics and alarms as infra names them.
      NAME_PREFIX: config.NAME_PREFIX,
      DEPLOY_ENV: config.DEPLOY_ENV,
      HTTP_API_ID: generated.httpApiId,
      // The routes' deadline: answer with the contract's JSON before the function (and API Gateway) gives up.
      API_TIMEOUT_SECONDS: timeoutSeconds,
      CORS_ORIGINS: config.CORS_ORIGINS,
      UPLOAD_URL_TTL_SECONDS: config.UPLOAD_URL_TTL_SECONDS,
      ROUTE_COST_PROVIDER: config.ROUTE_COST_PROVIDER,
      ROUTE_QUALITY_PROVIDER: config.ROUTE_QUALITY_PROVIDER,
    },
    // Step Functions retries the worker's tasks with backoff; SDK retries inside would multiply them.
    worker: {
      ...base,
      ...providers,
      PROVIDER_MAX_ATTEMPTS: 1,
      ...(generated.apiBaseUrl ? { API_BASE_URL: generated.apiBaseUrl } : {}),
    },
    ingest: base,
  };
  const environment = toEnvironment(values[role]);
  validateEnvironment(role, environment, timeoutSeconds);
  return environment;
}

/** Checks a rendered environment as the function will load it; throws with every problem listed. */
export function validateEnvironment(
  role: FunctionRole,
  environment: Record<string, string>,
  timeoutSeconds: number,
): void {
  const generatedKeys = Object.keys(environment).filter((key) => Token.isUnresolved(environment[key]));
  // Values Terraform fills in later are left out of the check but count as given; everything known now is
  // checked by the real loader, as the function will load it.
  const literal = Object.fromEntries(
    Object.entries(environment).filter(([key]) => !generatedKeys.includes(key)),
  );
  const requiredInCloud = cloudRequirements[role].filter((key) => !generatedKeys.includes(key));

  const problems: string[] = [];
  let config: Config | undefined;
  try {
    config = loadConfig(literal, { requiredInCloud });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (environment.MODE !== 'aws') problems.push('MODE: must be aws (a Lambda function runs in the cloud)');
  for (const key of Object.keys(environment)) {
    if (reservedKeys.includes(key)) problems.push(`${key}: reserved by Lambda`);
  }
  if (config && config.PROVIDER_TIMEOUT_MS >= timeoutSeconds * 1000 && role !== 'ingest') {
    problems.push(
      `PROVIDER_TIMEOUT_MS: ${config.PROVIDER_TIMEOUT_MS} ms must be below the ${role} function's ${timeoutSeconds} s timeout`,
    );
  }
  const bytes =
    Object.entries(literal).reduce((sum, [key, value]) => sum + key.length + Buffer.byteLength(value), 0) +
    generatedKeys.reduce((sum, key) => sum + key.length + generatedValueBytes, 0);
  if (bytes > maxEnvironmentBytes) {
    problems.push(`environment: about ${bytes} bytes, over Lambda's ${maxEnvironmentBytes}`);
  }
  if (problems.length > 0) {
    throw new Error(`Invalid ${role} function environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
