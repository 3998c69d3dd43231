import { classifierResponseSchema } from '@mc-vision/core';
import { faultRoute, type FaultInput } from '@mc-vision/emulators';
import { startAzureOpenAiServer } from '@mc-vision/emulators/azure-openai';
import { startBedrockRuntimeServer } from '@mc-vision/emulators/bedrock';
import { startModelServer } from '@mc-vision/model-server';
import { testModelDir } from '@mc-vision/assets';

// The three providers as the local cloud runs them: the real classifier (model server, SageMaker's runtime
// contract) and the Bedrock and Azure OpenAI emulators describing images from that classifier's labels. Each
// emulator can be told to fail its next requests (`fault`), in the service's own error shape.

export const azureApiKey = 'azure-key-for-tests';
/** The emulators' fault routes need a token, as in the local cloud. */
const adminToken = 'admin-token-for-tests';

export interface LocalProviders {
  /** Endpoint settings for `loadConfig`. */
  env: Record<string, string>;
  fault(provider: 'bedrock' | 'azure', fault: FaultInput): Promise<void>;
  clearFaults(): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalProviders(): Promise<LocalProviders> {
  const model = await startModelServer({
    modelDir: testModelDir,
    port: 0,
  });
  const classify = async (bytes: Uint8Array, contentType: string) => {
    const response = await fetch(`${model.url}/invocations`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: bytes,
    });
    return classifierResponseSchema.parse(await response.json());
  };
  const bedrock = await startBedrockRuntimeServer({ classify, adminToken });
  const azure = await startAzureOpenAiServer({ classify, apiKey: azureApiKey, adminToken });
  const urls = { bedrock: bedrock.url, azure: azure.url };
  const admin = (provider: 'bedrock' | 'azure', init: RequestInit) =>
    fetch(`${urls[provider]}${faultRoute}`, {
      ...init,
      headers: { ...init.headers, authorization: `Bearer ${adminToken}` },
    }).then(async (response) => {
      if (!response.ok) throw new Error(`fault admin answered ${response.status}: ${await response.text()}`);
    });
  return {
    env: {
      SAGEMAKER_RUNTIME_ENDPOINT: model.url,
      BEDROCK_RUNTIME_ENDPOINT: bedrock.url,
      AZURE_OPENAI_ENDPOINT: azure.url,
      AZURE_OPENAI_API_KEY: azureApiKey,
      // One attempt per call, so a fault queued for one request is seen by that request.
      PROVIDER_MAX_ATTEMPTS: '1',
    },
    fault: (provider, fault) =>
      admin(provider, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(fault),
      }),
    clearFaults: async () => {
      await Promise.all([admin('bedrock', { method: 'DELETE' }), admin('azure', { method: 'DELETE' })]);
    },
    async close() {
      await Promise.all([bedrock.close(), azure.close()]);
      await model.close();
    },
  };
}
