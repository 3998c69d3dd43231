// The task handler of the worker function, built on its first task: lambda.ts imports this module then, so
// the S3 client, the provider clients and Secrets Manager are not loaded at the start of either function (the
// ingest function, which runs the same image, never loads them).
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { cloudRequirements, createProviders, createS3Client, loadConfig, type Config } from '@mc-vision/core';
import { createTaskHandler, type TaskHandler } from './task-handler.ts';

/** Seconds a read Azure OpenAI key is cached; a rotated key is picked up within this time. */
const secretMaxAgeSeconds = 300;

/**
 * In the cloud the key is a Secrets Manager secret (plain string); locally `AZURE_OPENAI_API_KEY`. A secret
 * without a string value reads as no key, which the Azure provider fails as `ProviderMisconfigured`: named,
 * so the pipeline records it instead of retrying it.
 */
function azureApiKeyReader(config: Config, tracer: Tracer): (() => Promise<string>) | undefined {
  const secretArn = config.AZURE_OPENAI_KEY_SECRET_ARN;
  if (!secretArn) return undefined;
  const client = new SecretsManagerClient({
    region: config.AWS_REGION,
    ...(config.SECRETS_MANAGER_ENDPOINT ? { endpoint: config.SECRETS_MANAGER_ENDPOINT } : {}),
  });
  const secrets = new SecretsProvider({ awsSdkV3Client: tracer.captureAWSv3Client(client) });
  return async () => {
    const value = await secrets.get(secretArn, { maxAge: secretMaxAgeSeconds });
    return typeof value === 'string' ? value : '';
  };
}

/** The task handler with its clients, every SDK client traced. */
export function buildTaskHandler(tracer: Tracer): TaskHandler {
  // One attempt per provider call: Step Functions retries the task with backoff, and SDK retries inside
  // would multiply its attempts.
  const taskConfig: Config = {
    ...loadConfig(process.env, { requiredInCloud: cloudRequirements.worker }),
    PROVIDER_MAX_ATTEMPTS: 1,
  };
  const azureApiKey = azureApiKeyReader(taskConfig, tracer);
  return createTaskHandler({
    config: taskConfig,
    s3: tracer.captureAWSv3Client(createS3Client(taskConfig)),
    providers: createProviders(taskConfig, {
      ...(azureApiKey ? { azureApiKey } : {}),
      instrumentAwsClient: (client) => tracer.captureAWSv3Client(client),
    }),
  });
}
