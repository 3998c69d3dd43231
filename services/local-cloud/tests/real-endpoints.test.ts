import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startAzureOpenAiServer, type EmulatorServer } from '@mc-vision/emulators';
import { startModelServer, type LogEvent, type RunningModelServer } from '@mc-vision/model-server';
import { buildLocalConfig, planProviders } from '../src/index.ts';
import { modelDir, startTestCloud, uploadPelican, type TestCloud } from './support.ts';

// A provider the user configured is never replaced by an emulator: a URL is used as given, an empty value
// means the real service (the SDK's own endpoint), and only unset providers are emulated.

const local = {
  dataDir: '/data',
  api: { port: 3000, url: 'http://127.0.0.1:3000' },
  credentials: { accessKeyId: 'mc-vision-local', secretAccessKey: 'secret-of-this-run' },
  dynamodb: 'http://127.0.0.1:1001',
  s3: 'http://127.0.0.1:1002',
  sns: 'http://127.0.0.1:1003',
};

describe('which providers are emulated', () => {
  it('emulates what is unset, and leaves what is set as it is', () => {
    expect(planProviders({})).toEqual({ sagemaker: true, bedrock: true, azure: true });
    expect(
      planProviders({
        SAGEMAKER_RUNTIME_ENDPOINT: 'https://runtime.sagemaker.eu-west-1.amazonaws.com',
        BEDROCK_RUNTIME_ENDPOINT: '',
        AZURE_OPENAI_ENDPOINT: 'https://mine.openai.azure.com/',
      }),
    ).toEqual({ sagemaker: false, bedrock: false, azure: false });
    // Azure has no default endpoint: empty is the same as unset.
    expect(planProviders({ AZURE_OPENAI_ENDPOINT: '' }).azure).toBe(true);
  });

  it('keeps explicitly configured endpoints in the configuration', () => {
    const env = {
      SAGEMAKER_RUNTIME_ENDPOINT: 'https://runtime.sagemaker.eu-west-1.amazonaws.com',
      BEDROCK_RUNTIME_ENDPOINT: '',
      AZURE_OPENAI_ENDPOINT: 'https://mine.openai.azure.com/',
      AZURE_OPENAI_API_KEY: 'my-real-azure-key',
      S3_ENDPOINT: 'http://somewhere-else:9000',
    };
    const config = buildLocalConfig(env, local);
    expect(config.SAGEMAKER_RUNTIME_ENDPOINT).toBe(env.SAGEMAKER_RUNTIME_ENDPOINT);
    expect(config.BEDROCK_RUNTIME_ENDPOINT).toBeUndefined(); // the real Bedrock, with real credentials
    expect(config.AZURE_OPENAI_ENDPOINT).toBe(env.AZURE_OPENAI_ENDPOINT);
    expect(config.AZURE_OPENAI_API_KEY).toBe('my-real-azure-key');
    // The local cloud's own services are always the local ones.
    expect(config.S3_ENDPOINT).toBe(local.s3);
    expect(config).toMatchObject({
      MODE: 'local',
      DATA_DIR: '/data',
      DYNAMODB_ENDPOINT: local.dynamodb,
      PORT: 3000,
      API_BASE_URL: 'http://127.0.0.1:3000',
      EMULATOR_ACCESS_KEY_ID: 'mc-vision-local',
      EMULATOR_SECRET_ACCESS_KEY: 'secret-of-this-run',
    });
  });

  it('uses the emulators for whatever is left unset', () => {
    const config = buildLocalConfig(
      {},
      {
        ...local,
        sageMakerRuntime: 'http://127.0.0.1:2001',
        bedrockRuntime: 'http://127.0.0.1:2002',
        azureOpenAi: { endpoint: 'http://127.0.0.1:2003', apiKey: 'emulator-key-0123' },
      },
    );
    expect(config).toMatchObject({
      SAGEMAKER_RUNTIME_ENDPOINT: 'http://127.0.0.1:2001',
      BEDROCK_RUNTIME_ENDPOINT: 'http://127.0.0.1:2002',
      AZURE_OPENAI_ENDPOINT: 'http://127.0.0.1:2003',
      AZURE_OPENAI_API_KEY: 'emulator-key-0123',
    });
  });
});

describe('a local cloud with SageMaker and Azure pointed elsewhere', () => {
  // Stand-ins for "the real service": a SageMaker-compatible endpoint and an Azure OpenAI resource of the
  // user's own, each recognisable by what it answers.
  let sagemaker: RunningModelServer;
  const sagemakerCalls: LogEvent[] = [];
  let azure: EmulatorServer;
  let local: TestCloud;
  const azureKey = 'the-users-own-azure-key';

  beforeAll(async () => {
    sagemaker = await startModelServer({ modelDir, port: 0, log: (event) => sagemakerCalls.push(event) });
    azure = await startAzureOpenAiServer({
      apiKey: azureKey,
      classify: (bytes) => sagemaker.classifier.classify(bytes),
      transformDescription: (description) => ({
        ...description,
        caption: `${description.caption} (elsewhere)`,
      }),
    });
    local = await startTestCloud({
      env: {
        SAGEMAKER_RUNTIME_ENDPOINT: sagemaker.url,
        AZURE_OPENAI_ENDPOINT: azure.url,
        AZURE_OPENAI_API_KEY: azureKey,
      },
    });
  }, 60_000);

  afterAll(async () => {
    await local?.close();
    await azure?.close();
    await sagemaker?.close();
  });

  it('sends SageMaker and Azure calls where the configuration says, and emulates only Bedrock', async () => {
    expect(local.cloud.emulated).toEqual({ sagemaker: false, bedrock: true, azure: false });
    expect(local.cloud.config.SAGEMAKER_RUNTIME_ENDPOINT).toBe(sagemaker.url);
    expect(local.cloud.config.AZURE_OPENAI_ENDPOINT).toBe(azure.url);
    // The model server still runs, for the Bedrock emulator only; Azure has no emulator here.
    expect(local.cloud.components.map(({ name }) => name)).toEqual([
      'cloudwatch',
      'dynamodb',
      's3',
      'sns',
      'classifier',
      'bedrock',
      'stepfunctions',
      'api',
    ]);

    const key = await uploadPelican(local.api);
    const { status, body } = await local.api.post('/v1/analyses', { key });
    expect(status).toBe(200);
    expect(body.status).toBe('complete');
    expect(body.results.azure.caption).toMatch(/pelican.*\(elsewhere\)$/i);
    expect(body.results.bedrock.caption).not.toMatch(/elsewhere/);
    expect(sagemakerCalls).toContainEqual(
      expect.objectContaining({ event: 'invocation', status: 200, top: 'pelican' }),
    );
  }, 30_000);
});
