import * as z from 'zod';

// Settings only the infrastructure app reads (names, sizes). Environments (dev/prod)
// differ by these values, never by code: `infra/env/<env>.env` sets them and is validated by this schema.
// Every value has a default so that the API, the worker and the local cloud, which load the same schema,
// never need them.

const int = (min: number, max: number = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const positive = z.coerce.number().positive();

/** The retention periods CloudWatch Logs accepts. */
const logRetentionDays = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** S3 bucket name rules (lowercase, digits, dots and hyphens; 3-63 characters). */
const bucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name');

export const infraConfigShape = {
  DEPLOY_ENV: z.enum(['dev', 'prod']).default('dev'),
  NAME_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,20}$/)
    .default('mc-vision'),
  /** Who is e-mailed the CloudWatch alarms (the alarms topic). */
  ALERT_EMAIL: z.email().optional(),
  /** Who is e-mailed each pipeline's result notice (the results topic: request, status, outcomes, a link). */
  RESULTS_EMAIL: z.email().optional(),

  // Where the stacks go. AWS_REGION (runtime section) is the deployment region too.
  AWS_ACCOUNT_ID: z
    .string()
    .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
    .default('000000000000'),
  TF_STATE_BUCKET: bucketName.default('mc-vision-tfstate'),
  TF_STATE_LOCK_TABLE: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,255}$/)
    .default('mc-vision-tflock'),
  /** `owner/name` of the GitHub repository whose workflows may assume the plan and deploy roles. */
  DEPLOY_REPOSITORY: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be owner/name')
    .default('mc-vision/mc-vision'),
  /** An account has one GitHub OIDC provider: the first environment's backend stack creates it, others reuse it. */
  GITHUB_OIDC_PROVIDER: z.enum(['create', 'existing']).default('create'),
  /** Days a replaced or deleted object version is kept (images, models, Terraform state). */
  NONCURRENT_VERSION_DAYS: int(1, 3650).default(30),

  // Container images (ECR tags are immutable, so every deployment names a new tag).
  IMAGE_TAG: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be a valid image tag')
    .default('0.1.0'),
  ECR_KEEP_IMAGES: int(1, 1000).default(20),

  // Lambda functions.
  API_MEMORY_MB: int(128, 10_240).default(1024),
  /** An HTTP API integration gives up after 30 s, so the API function stops before that. */
  API_TIMEOUT_SECONDS: int(1, 29).default(29),
  /** Reserved concurrency caps the function (and protects the account's pool); unset means unreserved. */
  API_RESERVED_CONCURRENCY: int(1).optional(),
  /** Pre-initialized instances behind the `live` alias; 0 means none (and no alias cost). */
  API_PROVISIONED_CONCURRENCY: int(0).default(0),
  WORKER_MEMORY_MB: int(128, 10_240).default(1024),
  /** The pipeline gives each worker task this plus a margin, so Lambda reports a stuck invocation first. */
  WORKER_TIMEOUT_SECONDS: int(1, 840).default(60),
  WORKER_RESERVED_CONCURRENCY: int(1).optional(),
  INGEST_MEMORY_MB: int(128, 10_240).default(256),
  INGEST_TIMEOUT_SECONDS: int(1, 900).default(30),
  LOG_RETENTION_DAYS: z.coerce
    .number()
    .refine((days) => (logRetentionDays as readonly number[]).includes(days), {
      message: `must be one of ${logRetentionDays.join(', ')}`,
    })
    .default(30),

  // HTTP API throttling (the stage's default route settings).
  API_THROTTLE_RATE_LIMIT: positive.default(20),
  API_THROTTLE_BURST_LIMIT: int(1).default(40),

  // State machine.
  PIPELINE_LOG_LEVEL: z.enum(['ALL', 'ERROR', 'FATAL']).default('ERROR'),

  // SageMaker Serverless.
  SAGEMAKER_MEMORY_MB: z.coerce
    .number()
    .refine((mb) => [1024, 2048, 3072, 4096, 5120, 6144].includes(mb), {
      message: 'must be 1024, 2048, 3072, 4096, 5120 or 6144',
    })
    .default(2048),
  SAGEMAKER_MAX_CONCURRENCY: int(1, 200).default(5),
  /** Key of the model package (`pnpm model:package`) in the models bucket. */
  MODEL_ARTIFACT_KEY: z
    .string()
    .regex(/^[A-Za-z0-9!_.*'()/-]+\.tar\.gz$/, 'must be an S3 key ending in .tar.gz')
    .default('models/resnet18-v1-7/model.tar.gz'),

  // Azure OpenAI.
  AZURE_LOCATION: z.string().min(1).default('swedencentral'),
  AZURE_RESOURCE_GROUP: z
    .string()
    .regex(/^[A-Za-z0-9_.()-]{1,90}$/)
    .default('mc-vision-rg'),
  /** Account name and custom subdomain (so the endpoint is https://<name>.openai.azure.com/); globally unique. */
  AZURE_OPENAI_ACCOUNT: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/)
    .default('mc-vision-openai'),
  AZURE_OPENAI_MODEL_VERSION: z.string().min(1).default('2024-07-18'),
  AZURE_OPENAI_SKU: z.enum(['GlobalStandard', 'Standard']).default('GlobalStandard'),
  /** Deployment capacity in thousands of tokens per minute. */
  AZURE_OPENAI_CAPACITY: int(1, 10_000).default(10),
  /** Key authentication; the Lambda functions use the key, so turning it off needs Entra ID auth in the app. */
  AZURE_OPENAI_LOCAL_AUTH: z.stringbool().default(true),
};
