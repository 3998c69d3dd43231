import { createBedrockRuntimeClient, createSageMakerRuntimeClient } from '../aws.ts';
import type { Config } from '../config/index.ts';
import { ProviderMisconfiguredError } from '../errors.ts';
import { createAzureDescriber, createAzureOpenAIClient } from './azure.ts';
import { createBedrockDescriber } from './bedrock.ts';
import { mapProviderErrors } from './errors.ts';
import { createSageMakerClassifier } from './sagemaker.ts';
import type { Classifier, DescribeOptions, Describer, ImageInput } from './types.ts';

export * from './azure.ts';
export * from './bedrock.ts';
export * from './errors.ts';
export * from './guardrail.ts';
export * from './image.ts';
export * from './pricing.ts';
export * from './prompt.ts';
export * from './sagemaker.ts';

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

/** The three provider clients, wired from configuration with core's SDK client factories. */
export function createProviders(config: Config, options: CreateProvidersOptions = {}): Providers {
  const instrument = options.instrumentAwsClient ?? (<Client extends object>(client: Client) => client);
  const bedrockClient = instrument(createBedrockRuntimeClient(config));
  const guardrail = { id: config.BEDROCK_GUARDRAIL_ID, version: config.BEDROCK_GUARDRAIL_VERSION };
  const llm = {
    maxImageEdge: config.LLM_IMAGE_MAX_EDGE,
    maxOutputTokens: config.LLM_MAX_OUTPUT_TOKENS,
    maxImagePixels: config.MAX_IMAGE_PIXELS,
    ...(options.clock ? { clock: options.clock } : {}),
  };
  const readAzureKey =
    options.azureApiKey ?? (async (): Promise<string | undefined> => config.AZURE_OPENAI_API_KEY);

  // The key is read when a call needs it, not here: the API and worker start (and the other providers work)
  // without one, and a rotated secret is picked up by rebuilding the client when the key changes.
  let azure: { key: string; describer: Describer } | undefined;
  const azureDescriber: Describer = {
    provider: 'azure',
    async describe(image: ImageInput, describeOptions?: DescribeOptions) {
      const key = await mapProviderErrors('azure', readAzureKey);
      if (!key) {
        throw new ProviderMisconfiguredError(
          'azure',
          'azure: no Azure OpenAI API key is configured (AZURE_OPENAI_API_KEY locally, a non-empty AZURE_OPENAI_KEY_SECRET_ARN secret in the cloud)',
        );
      }
      if (azure?.key !== key) {
        azure = {
          key,
          describer: createAzureDescriber({
            client: createAzureOpenAIClient(config, key),
            deployment: config.AZURE_OPENAI_DEPLOYMENT,
            guardrail: { ...guardrail, client: bedrockClient },
            ...llm,
          }),
        };
      }
      return azure.describer.describe(image, describeOptions);
    },
  };

  return {
    sagemaker: createSageMakerClassifier({
      client: instrument(createSageMakerRuntimeClient(config)),
      endpointName: config.SAGEMAKER_ENDPOINT_NAME,
      topK: config.CLASSIFIER_TOP_K,
      ...(options.clock ? { clock: options.clock } : {}),
    }),
    bedrock: createBedrockDescriber({
      client: bedrockClient,
      modelId: config.BEDROCK_MODEL_ID,
      guardrail,
      ...llm,
    }),
    azure: azureDescriber,
  };
}
