import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Config } from './config/index.ts';

// SDK clients built from configuration. Local mode changes endpoints, never code paths: with an endpoint
// override a client talks to the emulator, signing with the emulators' credentials (`EMULATOR_*`); without one
// it uses the default credential chain and the real service.

/** The static credentials clients sign with when pointed at an emulator. */
export function emulatorCredentials(config: Config): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: config.EMULATOR_ACCESS_KEY_ID, secretAccessKey: config.EMULATOR_SECRET_ACCESS_KEY };
}

function base(config: Config, endpoint: string | undefined) {
  return endpoint
    ? { region: config.AWS_REGION, endpoint, credentials: emulatorCredentials(config) }
    : { region: config.AWS_REGION };
}

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

export function createS3Client(config: Config): S3Client {
  return new S3Client({
    ...base(config, config.S3_ENDPOINT),
    forcePathStyle: Boolean(config.S3_ENDPOINT),
    // Checksums only where S3 requires them: presigned PUTs stay valid for any body, and emulators agree.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function createDynamoDbClient(config: Config): DynamoDBClient {
  return new DynamoDBClient(base(config, config.DYNAMODB_ENDPOINT));
}

export function createSnsClient(config: Config): SNSClient {
  return new SNSClient(base(config, config.SNS_ENDPOINT));
}

export function createSfnClient(config: Config): SFNClient {
  return new SFNClient(base(config, config.SFN_ENDPOINT));
}

export function createSageMakerRuntimeClient(config: Config): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient({
    ...base(config, config.SAGEMAKER_RUNTIME_ENDPOINT),
    maxAttempts: config.PROVIDER_MAX_ATTEMPTS,
    requestHandler: providerHandler(config),
  });
}

export function createBedrockRuntimeClient(config: Config): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    ...base(config, config.BEDROCK_RUNTIME_ENDPOINT),
    maxAttempts: config.PROVIDER_MAX_ATTEMPTS,
    requestHandler: providerHandler(config),
  });
}

export function createCloudWatchClient(config: Config): CloudWatchClient {
  return new CloudWatchClient(base(config, config.CLOUDWATCH_ENDPOINT));
}
