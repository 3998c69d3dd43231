import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { DescribeStateMachineCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { Config } from '@mc-vision/core';
import * as z from 'zod';
import { Unhealthy, type HealthCheck } from './health.ts';

export interface HealthClients {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  sfn: SFNClient;
}

/**
 * One cheap read per dependency: the images bucket, the results table, the state machine (required: no route
 * works without them) and the classifier endpoint (not required: the LLM providers still answer without it).
 * In the cloud these need s3:ListBucket, dynamodb:DescribeTable, states:DescribeStateMachine and
 * sagemaker:DescribeEndpoint on exactly those resources.
 */
export function createHealthChecks(config: Config, clients: HealthClients): HealthCheck[] {
  return [
    {
      name: 'imagesBucket',
      required: true,
      check: async (abortSignal) => {
        await clients.s3.send(new HeadBucketCommand({ Bucket: config.IMAGES_BUCKET }), { abortSignal });
      },
    },
    {
      name: 'resultsTable',
      required: true,
      check: async (abortSignal) => {
        const { Table } = await clients.dynamodb.send(
          new DescribeTableCommand({ TableName: config.RESULTS_TABLE }),
          { abortSignal },
        );
        if (Table?.TableStatus !== 'ACTIVE')
          throw new Unhealthy(`table is ${Table?.TableStatus ?? 'missing'}`);
      },
    },
    {
      name: 'stateMachine',
      required: true,
      check: async (abortSignal) => {
        const { status } = await clients.sfn.send(
          new DescribeStateMachineCommand({ stateMachineArn: config.STATE_MACHINE_ARN }),
          { abortSignal },
        );
        if (status && status !== 'ACTIVE') throw new Unhealthy(`state machine is ${status}`);
      },
    },
    classifierCheck(config),
  ];
}

const pingReadySchema = z.object({ model: z.string() });
const pingFailureSchema = z.object({ error: z.object({ message: z.string() }) });

function classifierCheck(config: Config): HealthCheck {
  const endpoint = config.SAGEMAKER_RUNTIME_ENDPOINT;
  if (endpoint) {
    // On a laptop the runtime endpoint is the model server itself: SageMaker's `GET /ping` names the model it
    // serves, or says why it is not ready.
    return {
      name: 'classifier',
      required: false,
      check: async (signal) => {
        const response = await fetch(new URL('/ping', endpoint), { signal });
        const body: unknown = await response.json().catch(() => undefined);
        if (response.ok) {
          const ready = pingReadySchema.safeParse(body);
          return ready.success ? `model ${ready.data.model}` : undefined;
        }
        const failure = pingFailureSchema.safeParse(body);
        throw new Unhealthy(
          failure.success ? failure.data.error.message : `ping answered ${response.status}`,
        );
      },
    };
  }
  // DescribeEndpoint is the one call that tells whether the endpoint is InService without invoking the model
  // (which would wake a serverless endpoint and bill an inference). Its SDK is loaded on the first check: no
  // route needs the control plane.
  let readStatus: Promise<(name: string, signal: AbortSignal) => Promise<string | undefined>> | undefined;
  return {
    name: 'classifier',
    required: false,
    check: async (abortSignal) => {
      readStatus ??= import('./sagemaker-endpoint.ts').then((m) => m.endpointStatusReader(config.AWS_REGION));
      const EndpointStatus = await (await readStatus)(config.SAGEMAKER_ENDPOINT_NAME, abortSignal);
      if (EndpointStatus !== 'InService') throw new Unhealthy(`endpoint is ${EndpointStatus}`);
    },
  };
}
