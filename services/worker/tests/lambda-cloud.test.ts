import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Context } from 'aws-lambda';
import type * as LambdaEntries from '../src/lambda.ts';
import { startSecretsManagerServer, type SecretsManagerEmulator } from '@mc-vision/emulators';
import { fixtureImage, startLocalS3, type LocalS3 } from './support/s3.ts';

// The Lambda entries in the cloud (MODE=aws): the ingest function starts with the little infra gives it, the
// task function refuses to run on laptop defaults, and an empty Azure key secret is a named, final failure.

const azureKeySecretArn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:mc-vision-azure-key-AbCdEf';
const imageKey = 'images/pelican-for-the-cloud-test.jpeg';
const context = { awsRequestId: 'lambda-req-cloud' } as unknown as Context;

let entries: typeof LambdaEntries;
let s3: LocalS3;
let secrets: SecretsManagerEmulator;

beforeAll(async () => {
  [s3, secrets] = await Promise.all([
    startLocalS3(),
    startSecretsManagerServer({ secrets: { [azureKeySecretArn]: '' } }),
  ]);
  await s3.put(imageKey, fixtureImage('pelican.jpeg'), 'image/jpeg');
  // The ingest function's environment as infra renders it, plus what Lambda itself sets.
  Object.assign(process.env, {
    MODE: 'aws',
    SERVICE_NAME: 'mc-vision-ingest',
    IMAGES_BUCKET: s3.config.IMAGES_BUCKET,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  entries = await import('../src/lambda.ts');
});

afterAll(async () => {
  await Promise.all([s3?.close(), secrets?.close()]);
});

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

describe('the Lambda entries in the cloud', () => {
  it('start the ingest function with only the environment infra gives it', async () => {
    const event = {
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          eventTime: '2026-01-01T12:00:00.000Z',
          s3: { bucket: { name: s3.config.IMAGES_BUCKET }, object: { key: imageKey, size: 10 } },
        },
      ],
    };
    expect(await entries.ingestHandler(event, context)).toEqual({ records: 1, logged: 1, skipped: 0 });
  });

  it('refuse a task while any of its settings is missing, naming every one of them', async () => {
    const error = await rejectionOf(
      entries.taskHandler({ task: 'classify', requestId: 'cloud-1', imageKey }, context),
    );
    expect(error.name).toBe('ConfigError');
    for (const key of [
      'SAGEMAKER_ENDPOINT_NAME',
      'BEDROCK_GUARDRAIL_ID',
      'BEDROCK_GUARDRAIL_VERSION',
      'AZURE_OPENAI_ENDPOINT',
      'AZURE_OPENAI_KEY_SECRET_ARN',
      'API_BASE_URL',
    ]) {
      expect(error.message).toContain(`${key}: required when MODE=aws`);
    }
  });

  it('fail an Azure task on an empty key secret with a named error the pipeline does not retry', async () => {
    Object.assign(process.env, {
      S3_ENDPOINT: s3.config.S3_ENDPOINT,
      SECRETS_MANAGER_ENDPOINT: secrets.url,
      SAGEMAKER_ENDPOINT_NAME: 'acme-classifier',
      BEDROCK_GUARDRAIL_ID: 'abc123def456',
      BEDROCK_GUARDRAIL_VERSION: '1',
      // Nothing listens here: the call must fail before it is made.
      AZURE_OPENAI_ENDPOINT: 'http://127.0.0.1:9/',
      AZURE_OPENAI_KEY_SECRET_ARN: azureKeySecretArn,
      API_BASE_URL: 'https://abc123.execute-api.us-east-1.amazonaws.com',
    });
    const error = await rejectionOf(
      entries.taskHandler({ task: 'describe-azure', requestId: 'cloud-2', imageKey, hints: [] }, context),
    );
    expect(error.name).toBe('ProviderMisconfigured');
    expect(secrets.calls.get(azureKeySecretArn)).toBe(1);
  });
});
