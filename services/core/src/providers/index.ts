import type { Config } from '../config/index.ts';
import type { Classifier, Describer } from './types.ts';

export * from './guardrail.ts';
export * from './image.ts';
export * from './pricing.ts';
export * from './prompt.ts';

export interface Providers {
  sagemaker: Classifier;
  bedrock: Describer;
  azure: Describer;
}

export interface CreateProvidersOptions {
  /**
   * Reads the Azure OpenAI key (the API and worker pass a Secrets Manager reader in the cloud). An empty
   * string means no key is configured: the call fails with `ProviderMisconfigured`, which is never retried.
   */
  azureApiKey?: () => Promise<string>;
  /** Wraps each AWS SDK client once it is built (the Lambdas pass Powertools Tracer's `captureAWSv3Client`). */
  instrumentAwsClient?: <Client extends object>(client: Client) => Client;
  /** Milliseconds, for each result's `latencyMs` (default `performance.now`; a test hook). */
  clock?: () => number;
}

/**
 * The three provider clients, wired from configuration with core's SDK client factories (clients.ts). They are
 * built on the first call, and their modules loaded then: a Lambda's cold start, and every request that
 * calls no provider, never pays for `openai` or the Bedrock and SageMaker Runtime clients.
 */
export function createProviders(config: Config, options: CreateProvidersOptions = {}): Providers {
  let built: Promise<Providers> | undefined;
  const providers = () =>
    (built ??= import('./clients.ts').then(({ buildProviders }) => buildProviders(config, options)));
  return {
    sagemaker: {
      provider: 'sagemaker',
      classify: async (image, callOptions) => (await providers()).sagemaker.classify(image, callOptions),
    },
    bedrock: {
      provider: 'bedrock',
      describe: async (image, callOptions) => (await providers()).bedrock.describe(image, callOptions),
    },
    azure: {
      provider: 'azure',
      describe: async (image, callOptions) => (await providers()).azure.describe(image, callOptions),
    },
  };
}
