import { describe, expect, it } from '@jest/globals';
import { cloudRequirements, configSchema, loadConfig } from '@mc-vision/core/config/index';
import { Lazy, Testing } from 'cdktf';
import { validateEnvironment } from '../src/lambda-environment';
import { resourceNames, type FunctionRole } from '../src/names';
import { AwsPlatformStack } from '../src/stacks/aws-platform';
import { configOf, only, ref, synth } from './helpers';

const config = configOf('dev');
const names = resourceNames(config);
const { json } = synth(new AwsPlatformStack(Testing.app(), 'dev-aws-platform', config));

function environmentOf(role: FunctionRole): Record<string, string> {
  const [, fn] = only(json, 'aws_lambda_function', `${role}-function`);
  return (fn.environment as { variables: Record<string, string> }).variables;
}

/** What a function's `loadConfig(process.env)` sees once Terraform has filled in the references. */
function loadedBy(role: FunctionRole) {
  const env = environmentOf(role);
  const applied = Object.fromEntries(
    Object.entries(env).map(([key, value]) => [
      key,
      value
        .replace(
          /^\$\{aws_secretsmanager_secret\.[^}]+\}$/,
          'arn:aws:secretsmanager:us-east-1:111111111111:secret:x',
        )
        .replace(/^\$\{aws_apigatewayv2_api\.[^}]+\}$/, 'https://abc123.execute-api.us-east-1.amazonaws.com'),
    ]),
  );
  return loadConfig(applied);
}

describe('the functions’ environment', () => {
  it("holds only variables of the core's config schema, none that Lambda reserves", () => {
    const known = Object.keys(configSchema.shape);
    for (const role of ['api', 'worker', 'ingest'] as const) {
      const keys = Object.keys(environmentOf(role));
      expect(keys.filter((key) => !known.includes(key))).toEqual([]);
      expect(keys).not.toContain('AWS_REGION');
    }
  });

  it('points the API at the real resources, in aws mode', () => {
    const api = loadedBy('api');
    expect(api).toMatchObject({
      MODE: 'aws',
      IMAGES_BUCKET: names.imagesBucket,
      RESULTS_TABLE: names.resultsTable,
      STATE_MACHINE_ARN: names.stateMachineArn,
      NOTIFY_TOPIC_ARN: expect.any(String),
      SAGEMAKER_ENDPOINT_NAME: names.sagemakerEndpoint,
      BEDROCK_MODEL_ID: config.BEDROCK_MODEL_ID,
      AZURE_OPENAI_ENDPOINT: `https://${config.AZURE_OPENAI_ACCOUNT}.openai.azure.com/`,
      AZURE_OPENAI_DEPLOYMENT: config.AZURE_OPENAI_DEPLOYMENT,
      CORS_ORIGINS: config.CORS_ORIGINS,
      PROVIDER_MAX_ATTEMPTS: config.PROVIDER_MAX_ATTEMPTS,
    });
    // No laptop endpoint overrides reach the cloud.
    expect(Object.keys(environmentOf('api')).filter((key) => key.endsWith('_ENDPOINT'))).toEqual([
      'AZURE_OPENAI_ENDPOINT',
    ]);
  });

  it('lets Step Functions do the retrying for the worker, and links its notices to the API', () => {
    expect(loadedBy('worker').PROVIDER_MAX_ATTEMPTS).toBe(1);
    const [apiAddress] = only(json, 'aws_apigatewayv2_api', 'http-api');
    expect(environmentOf('worker').API_BASE_URL).toBe(
      ref('aws_apigatewayv2_api', apiAddress, 'api_endpoint'),
    );
    expect(environmentOf('worker').STATE_MACHINE_ARN).toBeUndefined();
    expect(environmentOf('worker').API_KEYS_SECRET_ARN).toBeUndefined();
  });

  it('gives the ingest function only what it reads', () => {
    expect(Object.keys(environmentOf('ingest')).sort()).toEqual(['IMAGES_BUCKET', 'MODE', 'SERVICE_NAME']);
  });

  it('fills in the generated ids and ARNs from the resources that own them', () => {
    const [guardrail] = only(json, 'aws_bedrock_guardrail');
    const [version] = only(json, 'aws_bedrock_guardrail_version');
    const [apiKeys] = only(json, 'aws_secretsmanager_secret', 'secrets_api-keys');
    const [azureKey] = only(json, 'aws_secretsmanager_secret', 'secrets_azure-openai-key');
    expect(environmentOf('api')).toMatchObject({
      BEDROCK_GUARDRAIL_ID: ref('aws_bedrock_guardrail', guardrail, 'guardrail_id'),
      BEDROCK_GUARDRAIL_VERSION: ref('aws_bedrock_guardrail_version', version, 'version'),
      API_KEYS_SECRET_ARN: ref('aws_secretsmanager_secret', apiKeys, 'arn'),
      AZURE_OPENAI_KEY_SECRET_ARN: ref('aws_secretsmanager_secret', azureKey, 'arn'),
    });
    // The topic's literal ARN names the topic the stack creates.
    const [, topic] = only(json, 'aws_sns_topic', 'notifications_topic_');
    expect(environmentOf('api').NOTIFY_TOPIC_ARN).toBe(
      `arn:aws:sns:${config.AWS_REGION}:${config.AWS_ACCOUNT_ID}:${String(topic.name)}`,
    );
    const [, machine] = only(json, 'aws_sfn_state_machine');
    expect(environmentOf('api').STATE_MACHINE_ARN?.endsWith(`:stateMachine:${String(machine.name)}`)).toBe(
      true,
    );
  });
});

describe('synth-time validation', () => {
  it('fails the synth when a provider call could outlive its function', () => {
    const shortWorker = { ...config, PROVIDER_TIMEOUT_MS: 25_000, WORKER_TIMEOUT_SECONDS: 20 };
    expect(() => new AwsPlatformStack(Testing.app(), 'dev-aws-platform', shortWorker)).toThrow(
      /worker function environment:\n {2}- PROVIDER_TIMEOUT_MS: 25000 ms must be below the worker function's 20 s timeout/,
    );
    const slowProvider = { ...config, PROVIDER_TIMEOUT_MS: 29_000 };
    expect(() => new AwsPlatformStack(Testing.app(), 'dev-aws-platform', slowProvider)).toThrow(
      /Invalid api function environment/,
    );
  });

  it('rejects a value the functions would refuse at startup, and a reserved variable', () => {
    expect(() => validateEnvironment('ingest', { MODE: 'aws', IMAGES_BUCKET: 'x' }, 30)).toThrow(
      /IMAGES_BUCKET/,
    );
    expect(() => validateEnvironment('ingest', { MODE: 'aws', AWS_REGION: 'us-east-1' }, 30)).toThrow(
      /AWS_REGION: reserved by Lambda/,
    );
  });

  it('gives every function each setting the core requires of it in the cloud', () => {
    for (const role of ['api', 'worker', 'ingest'] as const) {
      const env = environmentOf(role);
      expect(cloudRequirements[role].filter((key) => !env[key])).toEqual([]);
    }
  });

  it('fails the synth when a function would run on a laptop default, naming every missing setting', () => {
    // What Terraform fills in at apply time counts as given.
    const generated = Lazy.stringValue({ produce: () => 'arn:aws:secretsmanager:us-east-1:1:secret:k' });
    const worker = {
      MODE: 'aws',
      SERVICE_NAME: 'mc-vision-worker',
      IMAGES_BUCKET: 'mc-vision-images',
      BEDROCK_GUARDRAIL_ID: generated,
      BEDROCK_GUARDRAIL_VERSION: generated,
      AZURE_OPENAI_KEY_SECRET_ARN: generated,
      API_BASE_URL: generated,
    };
    let message = '';
    try {
      validateEnvironment('worker', worker, 60);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Invalid worker function environment:/);
    expect(message).toContain('SAGEMAKER_ENDPOINT_NAME: required when MODE=aws');
    expect(message).toContain('AZURE_OPENAI_ENDPOINT: required when MODE=aws');
    expect(message).not.toMatch(/BEDROCK_GUARDRAIL|AZURE_OPENAI_KEY_SECRET_ARN/);

    const complete = {
      ...worker,
      SAGEMAKER_ENDPOINT_NAME: 'mc-vision-classifier',
      AZURE_OPENAI_ENDPOINT: 'https://mc-vision-openai.openai.azure.com/',
    };
    expect(() => validateEnvironment('worker', complete, 60)).not.toThrow();
    expect(() => validateEnvironment('worker', { ...complete, MODE: 'local' }, 60)).toThrow(
      /MODE: must be aws/,
    );
  });

  it("refuses an environment over Lambda's 4 KB", () => {
    const big = {
      MODE: 'aws',
      CORS_ORIGINS: Array.from({ length: 200 }, (_, i) => `https://ui${i}.example.com`).join(','),
    };
    expect(() => validateEnvironment('api', big, 29)).toThrow(/over Lambda's 4096/);
  });
});
