import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { configSchema, ConfigError, loadConfig, type Config } from '@mc-vision/core/config/index';

// One environment's configuration: `env/<name>.env`, validated by the core's one config schema (the same
// `loadConfig` the Lambda functions run at startup). dev and prod differ by these files only.

export const deployEnvironments = ['dev', 'prod'] as const;
export type DeployEnvironment = (typeof deployEnvironments)[number];

export const envDir = join(__dirname, '..', 'env');

/** Variables a pipeline may set for one run instead of editing the file: the image tag it just pushed. */
export const overridableKeys = ['IMAGE_TAG'] as const;

export interface LoadDeployConfigOptions {
  dir?: string;
  /** Where overridable keys are read from (default `process.env`); only `overridableKeys` are taken. */
  overrides?: Record<string, string | undefined>;
}

export function loadDeployConfig(name: DeployEnvironment, options: LoadDeployConfigOptions = {}): Config {
  const file = join(options.dir ?? envDir, `${name}.env`);
  const values = parseEnv(readFileSync(file, 'utf8'));

  // A misspelt key would silently fall back to its default: refuse it instead.
  const known = new Set(Object.keys(configSchema.shape));
  const unknown = Object.keys(values).filter((key) => !known.has(key));
  const problems = unknown.map((key) => `${key}: not a configuration variable (${file})`);
  if (values.DEPLOY_ENV !== name) problems.push(`DEPLOY_ENV: must be "${name}" in ${file}`);
  if (problems.length > 0) throw new ConfigError(problems);

  const overrides = options.overrides ?? process.env;
  for (const key of overridableKeys) {
    const value = overrides[key];
    if (value) values[key] = value;
  }
  return loadConfig(values);
}
