import * as z from 'zod';
import { grantedBedrockModelIds } from '../bedrock-models.ts';

// Settings the API, the worker and the local cloud read. Defaults are the laptop's; in the cloud the infra
// renders every value into the Lambda environment from this same schema.

const csv = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string()));

const int = (min: number, max: number = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const providerName = z.enum(['sagemaker', 'bedrock', 'azure']);

export const runtimeConfigShape = {
  MODE: z.enum(['local', 'aws']).default('local'),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  SERVICE_NAME: z.string().min(1).default('mc-vision'),

  // Where things are kept.
  IMAGES_BUCKET: z.string().min(3).default('mc-vision-images'),
  RESULTS_TABLE: z.string().min(3).default('mc-vision-results'),
  NOTIFY_TOPIC_ARN: z
    .string()
    .startsWith('arn:')
    .default('arn:aws:sns:us-east-1:000000000000:mc-vision-notifications'),
  STATE_MACHINE_ARN: z
    .string()
    .startsWith('arn:')
    .default('arn:aws:states:us-east-1:000000000000:stateMachine:mc-vision-pipeline'),
  RESULT_TTL_DAYS: int(1, 3650).default(30),
  /** The batch state machines (Distributed Map): one reads its images from a prefix, one from a list of keys. */
  BATCH_PREFIX_STATE_MACHINE_ARN: z
    .string()
    .startsWith('arn:')
    .default('arn:aws:states:us-east-1:000000000000:stateMachine:mc-vision-batch-prefix'),
  BATCH_KEYS_STATE_MACHINE_ARN: z
    .string()
    .startsWith('arn:')
    .default('arn:aws:states:us-east-1:000000000000:stateMachine:mc-vision-batch-keys'),
  /** Images one batch may hold: the API refuses more, and the Distributed Map reads no more (Step Functions' ReaderConfig.MaxItems). */
  BATCH_MAX_ITEMS: int(1, 100_000_000).default(10_000),
  /** Child executions of one batch running at once (the Distributed Map's MaxConcurrency). */
  BATCH_MAX_CONCURRENCY: int(1, 10_000).default(10),
  /** Failed items, in whole percent of the batch, that still let it succeed (ToleratedFailurePercentage). */
  BATCH_TOLERATED_FAILURE_PERCENT: int(0, 100).default(10),
  /**
   * The API Gateway HTTP API in front of the API: its id names the API's CloudWatch metrics (`ApiId`), which the
   * monitoring dashboard reads. infra renders it; the local cloud stands in for it as `local`.
   */
  HTTP_API_ID: z.string().min(1).default('local'),

  // Endpoint overrides: set on a laptop (emulators), unset in the cloud.
  S3_ENDPOINT: z.url().optional(),
  DYNAMODB_ENDPOINT: z.url().optional(),
  SNS_ENDPOINT: z.url().optional(),
  SFN_ENDPOINT: z.url().optional(),
  SAGEMAKER_RUNTIME_ENDPOINT: z.url().optional(),
  BEDROCK_RUNTIME_ENDPOINT: z.url().optional(),
  SECRETS_MANAGER_ENDPOINT: z.url().optional(),
  CLOUDWATCH_ENDPOINT: z.url().optional(),
  /**
   * Local only: what the SDK clients sign with when an endpoint override points them at an emulator. The local
   * cloud makes a new secret at every start, and its DynamoDB and S3 refuse requests not signed with it.
   */
  EMULATOR_ACCESS_KEY_ID: z.string().min(1).default('S3RVER'),
  EMULATOR_SECRET_ACCESS_KEY: z.string().min(1).default('S3RVER'),

  // Providers.
  SAGEMAKER_ENDPOINT_NAME: z.string().min(1).default('mc-vision-classifier'),
  CLASSIFIER_TOP_K: int(1, 20).default(5),
  /** One of the models infra grants (bedrock-models.ts). */
  BEDROCK_MODEL_ID: z.enum(grantedBedrockModelIds).default(grantedBedrockModelIds[0]),
  BEDROCK_GUARDRAIL_ID: z.string().min(1).default('mc-vision-guardrail'),
  BEDROCK_GUARDRAIL_VERSION: z.string().min(1).default('1'),
  AZURE_OPENAI_ENDPOINT: z.url().default('http://127.0.0.1:4610'),
  AZURE_OPENAI_DEPLOYMENT: z.string().min(1).default('gpt-4o-mini'),
  AZURE_OPENAI_API_VERSION: z.string().min(1).default('2024-10-21'),
  /** Local only; in the cloud the key is read from AZURE_OPENAI_KEY_SECRET_ARN. */
  AZURE_OPENAI_API_KEY: z.string().min(1).optional(),
  AZURE_OPENAI_KEY_SECRET_ARN: z.string().startsWith('arn:').optional(),
  /** Longest image edge sent to an LLM; larger images are downsized first (fewer tokens, same answer). */
  LLM_IMAGE_MAX_EDGE: int(64, 8000).default(768),
  LLM_MAX_OUTPUT_TOKENS: int(16, 4096).default(400),
  PROVIDER_TIMEOUT_MS: int(100, 900_000).default(30_000),
  /** SDK attempts per provider call. The API keeps the SDK's retry; the worker sets 1 because Step Functions retries. */
  PROVIDER_MAX_ATTEMPTS: int(1, 10).default(3),

  // API.
  /** Local only; in the cloud keys are read from API_KEYS_SECRET_ARN. */
  API_KEY: z.string().min(16).optional(),
  API_KEYS_SECRET_ARN: z.string().startsWith('arn:').optional(),
  CORS_ORIGINS: csv.default(['http://127.0.0.1:3000', 'http://localhost:3000']),
  /** 4 MB: SageMaker Serverless's request limit, and within Lambda's 6 MB payload once base64-encoded. */
  MAX_IMAGE_BYTES: int(1024, 4_000_000).default(4_000_000),
  /** Decompression-bomb guard: a small file may still decode to a huge bitmap. */
  MAX_IMAGE_PIXELS: int(1, 268_402_689).default(40_000_000),
  UPLOAD_URL_TTL_SECONDS: int(10, 300).default(300),
  ROUTE_COST_PROVIDER: providerName.default('azure'),
  ROUTE_QUALITY_PROVIDER: providerName.default('bedrock'),
  PORT: int(0, 65535).default(3000),
  /**
   * Where callers reach the API (e.g. `https://api.example.com`): the pipeline's notifications link to the
   * result there. The local cloud sets it; in the cloud, infra renders the HTTP API's URL into the worker's
   * environment. Unset, a notification names the route (`GET /v1/results/<requestId>`) without a host.
   */
  API_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The built web UI the API serves at `/` (the API image sets it; the local cloud passes web/dist itself). */
  WEB_ROOT: z.string().min(1).optional(),

  // Laptop runtime.
  DATA_DIR: z.string().min(1).default('.data'),
  MODEL_DIR: z.string().min(1).optional(),
};
