import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Config } from './config/index.ts';

// SDK clients built from configuration. Local mode changes endpoints, never code paths: with an endpoint
// override a client talks to the emulator, signing with the emulators' credentials (`EMULATOR_*`); without one
// it uses the default credential chain and the real service. The provider clients (Bedrock,
// SageMaker Runtime) are built in providers/clients.ts, which only the first provider call loads.

/** The static credentials clients sign with when pointed at an emulator. */
export function emulatorCredentials(config: Config): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: config.EMULATOR_ACCESS_KEY_ID, secretAccessKey: config.EMULATOR_SECRET_ACCESS_KEY };
}

/**
 * Region, and the emulator's endpoint and credentials when one is configured. `cacheMiddleware`: the client
 * builds each command's middleware chain once, not on every call (a tenth of a call's CPU, measured here); a
 * call given options (an abort signal) still builds its own.
 */
export function clientBase(config: Config, endpoint: string | undefined) {
  const base = { region: config.AWS_REGION, cacheMiddleware: true };
  return endpoint ? { ...base, endpoint, credentials: emulatorCredentials(config) } : base;
}

export function createS3Client(config: Config): S3Client {
  return new S3Client({
    ...clientBase(config, config.S3_ENDPOINT),
    forcePathStyle: Boolean(config.S3_ENDPOINT),
    // Checksums only where S3 requires them: presigned PUTs stay valid for any body, and emulators agree.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function createDynamoDbClient(config: Config): DynamoDBClient {
  return new DynamoDBClient(clientBase(config, config.DYNAMODB_ENDPOINT));
}

export function createSnsClient(config: Config): SNSClient {
  return new SNSClient(clientBase(config, config.SNS_ENDPOINT));
}

export function createSfnClient(config: Config): SFNClient {
  return new SFNClient(clientBase(config, config.SFN_ENDPOINT));
}

export function createCloudWatchClient(config: Config): CloudWatchClient {
  return new CloudWatchClient(clientBase(config, config.CLOUDWATCH_ENDPOINT));
}
