import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Config } from '@mc-vision/core/config/index';
import { secretMaxAgeSeconds } from './api-keys.ts';

// Secrets Manager, for the Lambda entry alone: lambda.ts imports this module on the first secret it reads, so
// its client is not part of the function's start.

/**
 * Reads a secret through Powertools Parameters, each value reused for `secretMaxAgeSeconds` (a rotation shows
 * within that time). A secret without a string value reads as ''.
 */
export function secretsManagerReader(config: Config): (secretId: string) => Promise<string> {
  const client = new SecretsManagerClient({
    region: config.AWS_REGION,
    ...(config.SECRETS_MANAGER_ENDPOINT ? { endpoint: config.SECRETS_MANAGER_ENDPOINT } : {}),
  });
  const provider = new SecretsProvider({ awsSdkV3Client: client });
  return async (secretId) => {
    const value = await provider.get(secretId, { maxAge: secretMaxAgeSeconds });
    return typeof value === 'string' ? value : '';
  };
}
