import { describe, expect, it } from '@jest/globals';
import {
  cloudRequirements,
  ConfigError,
  grantedBedrockModelIds,
  loadConfig,
  toEnvironment,
} from '../../src/index.ts';

describe('loadConfig', () => {
  it('gives a laptop a working configuration with no variables set', () => {
    const config = loadConfig({});
    expect(config.MODE).toBe('local');
    expect(config.MAX_IMAGE_BYTES).toBe(4_000_000);
    expect(config.CORS_ORIGINS).toEqual(['http://127.0.0.1:3000', 'http://localhost:3000']);
  });

  it('coerces numbers and splits lists', () => {
    const config = loadConfig({ PORT: '8081', CORS_ORIGINS: 'https://a.example, https://b.example,' });
    expect(config.PORT).toBe(8081);
    expect(config.CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
  });

  it('treats empty strings as unset', () => {
    const config = loadConfig({ PORT: '', S3_ENDPOINT: '' });
    expect(config.PORT).toBe(3000);
    expect(config.S3_ENDPOINT).toBeUndefined();
  });

  it('lists every invalid variable at once', () => {
    let caught: unknown;
    try {
      loadConfig({ MODE: 'cloud', PORT: 'eighty', S3_ENDPOINT: 'not a url', UPLOAD_URL_TTL_SECONDS: '3600' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).toHaveLength(4);
    for (const name of ['MODE', 'PORT', 'S3_ENDPOINT', 'UPLOAD_URL_TTL_SECONDS']) {
      expect(problems.some((p) => p.startsWith(`${name}:`))).toBe(true);
      expect((caught as ConfigError).message).toContain(name);
    }
  });

  it('takes only a Bedrock model the platform is granted', () => {
    expect(loadConfig({}).BEDROCK_MODEL_ID).toBe(grantedBedrockModelIds[0]);
    expect(() => loadConfig({ BEDROCK_MODEL_ID: 'anthropic.claude-3-5-sonnet-20240620-v1:0' })).toThrow(
      /BEDROCK_MODEL_ID: .*"anthropic\.claude-3-haiku-20240307-v1:0"/,
    );
  });

  it('ignores variables it does not know', () => {
    expect(() => loadConfig({ HOME: '/root', PATH: '/bin' })).not.toThrow();
  });

  it('renders configuration back into environment variables that load to the same values', () => {
    const config = loadConfig({ MODE: 'aws', CORS_ORIGINS: 'https://a.example,https://b.example' });
    expect(loadConfig(toEnvironment(config))).toEqual(config);
  });
});

describe('loadConfig with requiredInCloud', () => {
  /** Every setting a cloud worker must be given, with real-looking values. */
  const workerEnvironment = {
    MODE: 'aws',
    SERVICE_NAME: 'mc-vision-worker',
    IMAGES_BUCKET: 'acme-mc-vision-images',
    RESULTS_TABLE: 'acme-mc-vision-results',
    SAGEMAKER_ENDPOINT_NAME: 'acme-classifier',
    BEDROCK_GUARDRAIL_ID: 'abc123def456',
    BEDROCK_GUARDRAIL_VERSION: '3',
    AZURE_OPENAI_ENDPOINT: 'https://acme-openai.openai.azure.com/',
    AZURE_OPENAI_KEY_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:azure-key-AbCdEf',
    API_BASE_URL: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
  };

  function problemsOf(load: () => unknown): string[] {
    try {
      load();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  }

  it('leaves a laptop on its defaults', () => {
    const config = loadConfig({}, { requiredInCloud: cloudRequirements.api });
    expect(config.AZURE_OPENAI_ENDPOINT).toBe('http://127.0.0.1:4610');
  });

  it('refuses a cloud process whose environment lacks a required setting, listing every problem at once', () => {
    const problems = problemsOf(() =>
      loadConfig(
        { MODE: 'aws', SERVICE_NAME: 'mc-vision-worker', IMAGES_BUCKET: '', PORT: 'eighty' },
        { requiredInCloud: cloudRequirements.worker },
      ),
    );
    // An empty value is as good as none; the schema's own problems come in the same error.
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(
      [
        'PORT',
        'IMAGES_BUCKET',
        'RESULTS_TABLE',
        'SAGEMAKER_ENDPOINT_NAME',
        'BEDROCK_GUARDRAIL_ID',
        'BEDROCK_GUARDRAIL_VERSION',
        'AZURE_OPENAI_ENDPOINT',
        'AZURE_OPENAI_KEY_SECRET_ARN',
        'API_BASE_URL',
      ].sort(),
    );
    expect(problems).toContain(
      'AZURE_OPENAI_ENDPOINT: required when MODE=aws (the local default does not apply in the cloud)',
    );
  });

  it('loads a cloud process that was given everything it needs', () => {
    const config = loadConfig(workerEnvironment, { requiredInCloud: cloudRequirements.worker });
    expect(config.AZURE_OPENAI_ENDPOINT).toBe('https://acme-openai.openai.azure.com/');
    // The API needs more than the worker does.
    const problems = problemsOf(() =>
      loadConfig(workerEnvironment, { requiredInCloud: cloudRequirements.api }),
    );
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'API_KEYS_SECRET_ARN',
      'BATCH_KEYS_STATE_MACHINE_ARN',
      'BATCH_PREFIX_STATE_MACHINE_ARN',
      'DEPLOY_ENV',
      'HTTP_API_ID',
      'NAME_PREFIX',
      'STATE_MACHINE_ARN',
    ]);
  });

  it('asks the ingest function only for its service name', () => {
    expect(cloudRequirements.ingest).toEqual(['SERVICE_NAME']);
    expect(() =>
      loadConfig(
        { MODE: 'aws', SERVICE_NAME: 'mc-vision-ingest', IMAGES_BUCKET: 'acme-mc-vision-images' },
        { requiredInCloud: cloudRequirements.ingest },
      ),
    ).not.toThrow();
  });
});
