import { loadConfig, type Config } from '@mc-vision/core';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// One configuration (core's schema) for everything the local cloud runs: the user's environment, with the
// endpoints of the emulators laid over it. DynamoDB, S3, SNS and Step Functions are always the local ones
// (they are the local cloud). A provider is emulated unless the user configured it: a variable that is set
// wins, and an empty value means "the real service" (the SDK's own endpoint and credentials).

export type Env = Record<string, string | undefined>;

/** The repository root (this file is services/local-cloud/src/config.ts). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Where state lives unless DATA_DIR says otherwise. */
export const defaultDataDir = join(repoRoot, '.data');

/**
 * A path the user typed, resolved against the directory they ran `pnpm start` from (pnpm runs the script in
 * the package folder and records the caller's directory in INIT_CWD).
 */
export function resolveUserPath(path: string, env: Env = process.env): string {
  return isAbsolute(path) ? path : resolve(env.INIT_CWD ?? process.cwd(), path);
}

/** DATA_DIR (relative to where the user ran the command), else `<repo>/.data`. */
export function resolveDataDir(env: Env = process.env): string {
  return env.DATA_DIR ? resolveUserPath(env.DATA_DIR, env) : defaultDataDir;
}

export interface ProviderPlan {
  /** Run the model server and point SageMaker's runtime client at it. */
  sagemaker: boolean;
  /** Run the Bedrock emulator (Converse and ApplyGuardrail). */
  bedrock: boolean;
  /** Run the Azure OpenAI emulator. */
  azure: boolean;
}

/**
 * Which providers the local cloud emulates. `SAGEMAKER_RUNTIME_ENDPOINT` / `BEDROCK_RUNTIME_ENDPOINT`: unset →
 * emulated; a URL → that endpoint; empty → the real AWS service. `AZURE_OPENAI_ENDPOINT`: unset or empty →
 * emulated; a URL → that resource (with `AZURE_OPENAI_API_KEY`).
 */
export function planProviders(env: Env): ProviderPlan {
  return {
    sagemaker: env.SAGEMAKER_RUNTIME_ENDPOINT === undefined,
    bedrock: env.BEDROCK_RUNTIME_ENDPOINT === undefined,
    azure: !env.AZURE_OPENAI_ENDPOINT,
  };
}

export interface LocalEndpoints {
  dataDir: string;
  /** Where the API listens: its port, and the base of the links in notifications (`API_BASE_URL`). */
  api: { port: number; url: string };
  /** What the SDK clients sign with for the local DynamoDB and S3 (and the other emulators). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  dynamodb: string;
  s3: string;
  sns: string;
  /** Absent when the provider is configured by the user (see `planProviders`). */
  sageMakerRuntime?: string;
  bedrockRuntime?: string;
  azureOpenAi?: { endpoint: string; apiKey: string };
  modelDir?: string;
}

/** The platform's configuration: the user's environment with the local cloud's endpoints laid over it. */
export function buildLocalConfig(env: Env, local: LocalEndpoints): Config {
  return loadConfig({
    ...env,
    MODE: 'local',
    DATA_DIR: local.dataDir,
    PORT: String(local.api.port),
    API_BASE_URL: local.api.url,
    EMULATOR_ACCESS_KEY_ID: local.credentials.accessKeyId,
    EMULATOR_SECRET_ACCESS_KEY: local.credentials.secretAccessKey,
    DYNAMODB_ENDPOINT: local.dynamodb,
    S3_ENDPOINT: local.s3,
    SNS_ENDPOINT: local.sns,
    ...(local.sageMakerRuntime ? { SAGEMAKER_RUNTIME_ENDPOINT: local.sageMakerRuntime } : {}),
    ...(local.bedrockRuntime ? { BEDROCK_RUNTIME_ENDPOINT: local.bedrockRuntime } : {}),
    ...(local.azureOpenAi
      ? {
          AZURE_OPENAI_ENDPOINT: local.azureOpenAi.endpoint,
          AZURE_OPENAI_API_KEY: local.azureOpenAi.apiKey,
        }
      : {}),
    ...(local.modelDir ? { MODEL_DIR: local.modelDir } : {}),
  });
}

/** `arn:aws:states:<region>:<account>:stateMachine:<name>` → its parts (the emulator builds the same ARN). */
export function parseStateMachineArn(arn: string): { region: string; accountId: string; name: string } {
  const match = /^arn:aws[\w-]*:states:([a-z0-9-]+):(\d{12}):stateMachine:([A-Za-z0-9_-]{1,80})$/.exec(arn);
  if (!match) {
    throw new Error(
      `STATE_MACHINE_ARN must be arn:aws:states:<region>:<account>:stateMachine:<name>, not ${arn}`,
    );
  }
  return { region: match[1]!, accountId: match[2]!, name: match[3]! };
}

/** The last part of an SNS topic ARN. */
export function topicName(topicArn: string): string {
  const name = topicArn.split(':').at(-1);
  if (!name || !/^[A-Za-z0-9_-]{1,256}$/.test(name)) {
    throw new Error(`NOTIFY_TOPIC_ARN must end in a topic name, not ${topicArn}`);
  }
  return name;
}
