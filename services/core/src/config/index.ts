import { z } from 'zod';
import { infraConfigShape } from './infra.ts';
import { runtimeConfigShape } from './runtime.ts';

/** Every variable the API, worker, local cloud and infra read: one schema, one place to look. */
export const configSchema = z.object({ ...runtimeConfigShape, ...infraConfigShape });

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

/** Reads configuration from an environment-like object (default `process.env`). Empty strings count as unset. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return parseEnvironment(configSchema, env);
}

/**
 * Validates the variables a schema names (others are ignored; empty strings count as unset), throwing a
 * `ConfigError` that lists every problem at once. `loadConfig` is this over the platform's schema; a process
 * with settings of its own (the model server) uses it with its own schema.
 */
export function parseEnvironment<Schema extends z.ZodObject>(
  schema: Schema,
  env: Record<string, string | undefined> = process.env,
): z.output<Schema> {
  const input = Object.fromEntries(
    Object.keys(schema.shape)
      .map((key) => [key, env[key] === '' ? undefined : env[key]])
      .filter(([, value]) => value !== undefined),
  );
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
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
