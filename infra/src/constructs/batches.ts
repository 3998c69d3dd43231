import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { SfnStateMachine } from '@cdktf/provider-aws/lib/sfn-state-machine';
import { batchPrefixes, batchSources, type BatchSource } from '@mc-vision/core/batches';
import type { Config } from '@mc-vision/core/config/index';
import {
  batchLimits,
  batchMapLabel,
  buildBatchDefinition,
  type BatchResources,
} from '@mc-vision/core/pipeline/batch-definition';
import { Construct } from 'constructs';
import { allow, ServiceRole, type Statement } from '../iam';
import { imagesPrefix, type ResourceNames } from '../names';
import { pipelineRunStatements, workerTaskMarginSeconds } from './pipeline';

export interface BatchesProps {
  names: ResourceNames;
  resources: BatchResources;
  topicKeyArn: string;
  config: Pick<
    Config,
    | 'BATCH_MAX_ITEMS'
    | 'BATCH_MAX_CONCURRENCY'
    | 'BATCH_TOLERATED_FAILURE_PERCENT'
    | 'WORKER_TIMEOUT_SECONDS'
    | 'PIPELINE_LOG_LEVEL'
    | 'LOG_RETENTION_DAYS'
  >;
}

/**
 * The batch state machines (one per item source), rendered from the core's batch definition: a Distributed Map
 * whose children are the pipeline, then one summary notification. Their role may list and read images only
 * under `images/` (and the key lists under `batches/manifests/`), write only under `batches/results/`, start,
 * describe, stop and redrive only its own child executions, and do what the pipeline's role does.
 */
export class Batches extends Construct {
  readonly stateMachines: Record<BatchSource, SfnStateMachine>;
  readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: BatchesProps) {
    super(scope, id);
    const { names, resources } = props;
    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: names.batchLogGroup,
      retentionInDays: props.config.LOG_RETENTION_DAYS,
    });
    const role = new ServiceRole(this, 'role', {
      name: names.role('batch'),
      service: 'states.amazonaws.com',
      sourceAccount: names.account,
      permissionsBoundary: names.workloadBoundaryArn,
      statements: batchStatements(names, resources, props.topicKeyArn),
    });
    const machines = batchSources.map((source) => {
      const definition = buildBatchDefinition(resources, {
        source,
        ...batchLimits(props.config),
        item: { workerTaskTimeoutSeconds: props.config.WORKER_TIMEOUT_SECONDS + workerTaskMarginSeconds },
      });
      const machine = new SfnStateMachine(this, `state-machine-${source}`, {
        name: names.batchStateMachine(source),
        type: 'STANDARD',
        roleArn: role.arn,
        definition: JSON.stringify(definition),
        loggingConfiguration: {
          level: props.config.PIPELINE_LOG_LEVEL,
          includeExecutionData: false,
          logDestination: `${this.logGroup.arn}:*`,
        },
        tracingConfiguration: { enabled: true },
        dependsOn: [role.policy],
      });
      return [source, machine] as const;
    });
    this.stateMachines = Object.fromEntries(machines) as Record<BatchSource, SfnStateMachine>;
  }
}

/** What the batch role may do: nothing a batch does not need, each statement scoped to its resources. */
export function batchStatements(
  names: ResourceNames,
  resources: BatchResources,
  topicKeyArn: string,
): Statement[] {
  const bucket = `arn:aws:s3:::${resources.imagesBucket}`;
  const machineArns = batchSources.map((source) => names.batchStateMachineArn(source));
  const childExecutions = batchSources.map(
    (source) =>
      `arn:aws:states:${names.region}:${names.account}:execution:${names.batchStateMachine(source)}/${batchMapLabel}:*`,
  );
  return [
    // The Distributed Map starts its children as executions of its own state machine, describes and stops them
    // (they are `execution:<machine>/<map label>:<id>`), and a redriven map run redrives them (AWS: "IAM policies
    // for using Distributed Map states").
    allow('states:StartExecution', machineArns, 'StartChildExecutions'),
    allow(
      ['states:DescribeExecution', 'states:RedriveExecution', 'states:StopExecution'],
      childExecutions,
      'ManageChildExecutions',
    ),
    // ItemReader: ListObjectsV2 under images/ only, and the key lists the API wrote.
    {
      Sid: 'ListImages',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: bucket,
      Condition: { StringLike: { 's3:prefix': [`${imagesPrefix}*`] } },
    },
    allow(
      's3:GetObject',
      [`${bucket}/${imagesPrefix}*`, `${bucket}/${batchPrefixes.manifests}*`],
      'ReadImagesAndKeyLists',
    ),
    // ResultWriter: the results, under batches/results/ only.
    allow(
      ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
      `${bucket}/${batchPrefixes.results}/*`,
      'WriteResults',
    ),
    // The children are the pipeline; the summary is published to the pipeline's topic.
    ...pipelineRunStatements(names, resources, topicKeyArn),
  ];
}
