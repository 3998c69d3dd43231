import * as z from 'zod';
import { infraConfigShape } from './infra.ts';
import { monitoringConfigShape } from './monitoring.ts';
import { runtimeConfigShape } from './runtime.ts';

/** Every variable the API, worker, local cloud and infra read: one schema, one place to look. */
export const configSchema = z.object({
  ...runtimeConfigShape,
  ...infraConfigShape,
  ...monitoringConfigShape,
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Thrown at startup with every invalid or missing variable listed at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

export type ConfigKey = keyof Config;

/**
 * Settings each cloud process must be given explicitly. Every setting has a laptop default, so without this a
 * Lambda whose environment lacks, say, AZURE_OPENAI_ENDPOINT would quietly call the emulator's loopback
 * address. Infra checks its rendered environments against the same lists at synth time.
 */
export const cloudRequirements = {
  api: [
    'SERVICE_NAME',
    'IMAGES_BUCKET',
    'RESULTS_TABLE',
    'STATE_MACHINE_ARN',
    'BATCH_PREFIX_STATE_MACHINE_ARN',
    'BATCH_KEYS_STATE_MACHINE_ARN',
    'SAGEMAKER_ENDPOINT_NAME',
    'BEDROCK_GUARDRAIL_ID',
    'BEDROCK_GUARDRAIL_VERSION',
    'AZURE_OPENAI_ENDPOINT',
    'AZURE_OPENAI_KEY_SECRET_ARN',
    'API_KEYS_SECRET_ARN',
    // The monitoring view names the functions, alarms and HTTP API as infra does.
    'NAME_PREFIX',
    'DEPLOY_ENV',
    'HTTP_API_ID',
  ],
  /**
   * The worker's task handler: it reads images and calls the three providers (the pipeline saves the record),
   * and sums up a batch from its records.
   */
  worker: [
    'SERVICE_NAME',
    'IMAGES_BUCKET',
    'RESULTS_TABLE',
    'SAGEMAKER_ENDPOINT_NAME',
    'BEDROCK_GUARDRAIL_ID',
    'BEDROCK_GUARDRAIL_VERSION',
    'AZURE_OPENAI_ENDPOINT',
    'AZURE_OPENAI_KEY_SECRET_ARN',
    // The result notices link to the result at the API.
    'API_BASE_URL',
  ],
  /** The ingest handler (same image as the worker) only logs S3 events, under its own service name. */
  ingest: ['SERVICE_NAME'],
} as const satisfies Record<string, readonly ConfigKey[]>;
export type CloudProcess = keyof typeof cloudRequirements;

export interface LoadConfigOptions {
  /** Settings that must be set (non-empty) when `MODE=aws`; usually `cloudRequirements.<process>`. */
  requiredInCloud?: readonly ConfigKey[];
}

/**
 * Reads configuration from an environment-like object (default `process.env`). Empty strings count as unset.
 * With `requiredInCloud`, a cloud process (`MODE=aws`) missing one of those settings fails too, in the same
 * `ConfigError` as every other problem.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  options: LoadConfigOptions = {},
): Config {
  const missing =
    env.MODE === 'aws'
      ? (options.requiredInCloud ?? [])
          .filter((key) => env[key] === undefined || env[key] === '')
          .map((key) => `${key}: required when MODE=aws (the local default does not apply in the cloud)`)
      : [];
  return parseEnvironment(configSchema, env, missing);
}

/**
 * Validates the variables a schema names (others are ignored; empty strings count as unset), throwing a
 * `ConfigError` that lists every problem at once, after any `problems` the caller found itself. `loadConfig`
 * is this over the platform's schema; a process with settings of its own (the model server) uses it with its
 * own schema.
 */
export function parseEnvironment<Schema extends z.ZodObject>(
  schema: Schema,
  env: Record<string, string | undefined> = process.env,
  problems: readonly string[] = [],
): z.output<Schema> {
  const input = Object.fromEntries(
    Object.keys(schema.shape)
      .map((key) => [key, env[key] === '' ? undefined : env[key]])
      .filter(([, value]) => value !== undefined),
  );
  const parsed = schema.safeParse(input);
  const issues = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  if (!parsed.success || problems.length > 0) throw new ConfigError([...issues, ...problems]);
  return parsed.data;
}

/** Renders configuration values as environment variables (for Lambda functions and child processes). */
export function toEnvironment(values: Partial<Config>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    env[key] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return env;
}
