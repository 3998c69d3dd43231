// The provider clients themselves, wired from configuration. `createProviders` (index.ts) loads this module on
// the first provider call, so a Lambda that never calls one never loads `openai` or the Bedrock and SageMaker
// Runtime clients. Import it as `@mc-vision/core/providers/clients`; the package's index leaves it out, since
// esbuild puts whatever the index reaches into the chunk every entry loads at start.
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { clientBase } from '../aws.ts';
import type { Config } from '../config/index.ts';
import { ProviderMisconfiguredError } from '../errors.ts';
import { createAzureDescriber, createAzureOpenAIClient } from './azure.ts';
import { createBedrockDescriber } from './bedrock.ts';
import { mapProviderErrors } from './errors.ts';
import type { CreateProvidersOptions, Providers } from './index.ts';
import { createSageMakerClassifier } from './sagemaker.ts';
import type { DescribeOptions, Describer, ImageInput } from './types.ts';

function providerHandler(config: Config) {
  // HTTP/1.1 with our own timeouts: Bedrock's default HTTP/2 handler cannot talk to HTTP/1.1 emulators, and a
  // provider call must not outlive the task that made it. Without `throwOnRequestTimeout` the handler only logs
  // a warning when `requestTimeout` passes and keeps waiting.
  return new NodeHttpHandler({
    connectionTimeout: 5_000,
    requestTimeout: config.PROVIDER_TIMEOUT_MS,
    throwOnRequestTimeout: true,
  });
}

export function createSageMakerRuntimeClient(config: Config): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient({
    ...clientBase(config, config.SAGEMAKER_RUNTIME_ENDPOINT),
    maxAttempts: config.PROVIDER_MAX_ATTEMPTS,
    requestHandler: providerHandler(config),
  });
}

export function createBedrockRuntimeClient(config: Config): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    ...clientBase(config, config.BEDROCK_RUNTIME_ENDPOINT),
    maxAttempts: config.PROVIDER_MAX_ATTEMPTS,
    requestHandler: providerHandler(config),
  });
}

/** The three provider clients, wired from configuration with core's SDK client factories. */
export function buildProviders(config: Config, options: CreateProvidersOptions = {}): Providers {
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
