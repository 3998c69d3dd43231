import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { SfnStateMachine } from '@cdktf/provider-aws/lib/sfn-state-machine';
import { buildPipelineDefinition, type PipelineResources } from '@mc-vision/core/pipeline/definition';
import { Construct } from 'constructs';
import { allow, ServiceRole, traceActions, vendedLogDeliveryActions } from '../iam';
import type { ResourceNames } from '../names';

export interface PipelineProps {
  names: ResourceNames;
  resources: PipelineResources;
  /** The topic's KMS key: publishing to an encrypted topic needs it. */
  topicKeyArn: string;
  /** The worker function's own timeout; each task waits a little longer, so Lambda reports a hang first. */
  workerTimeoutSeconds: number;
  logLevel: 'ALL' | 'ERROR' | 'FATAL';
  logRetentionDays: number;
}

/** Seconds a worker task waits beyond the function's own timeout. */
export const workerTaskMarginSeconds = 15;

/**
 * The state machine, rendered from the core's pipeline definition with the real resources, logging to
 * CloudWatch (without execution data: inputs and outputs may hold image descriptions) and traced by X-Ray.
 * Its role can invoke only the worker, put only into the results table and publish only to the topic.
 */
export class Pipeline extends Construct {
  readonly stateMachine: SfnStateMachine;
  readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: PipelineProps) {
    super(scope, id);
    const { names, resources } = props;
    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: names.pipelineLogGroup,
      retentionInDays: props.logRetentionDays,
    });
    const role = new ServiceRole(this, 'role', {
      name: names.role('pipeline'),
      service: 'states.amazonaws.com',
      sourceAccount: names.account,
      permissionsBoundary: names.workloadBoundaryArn,
      statements: [
        allow(
          'lambda:InvokeFunction',
          [resources.workerFunctionArn, `${resources.workerFunctionArn}:*`],
          'InvokeWorker',
        ),
        allow(
          'dynamodb:PutItem',
          `arn:aws:dynamodb:${names.region}:${names.account}:table/${resources.resultsTableName}`,
          'SaveResult',
        ),
        allow('sns:Publish', resources.notifyTopicArn, 'Notify'),
        allow(['kms:Decrypt', 'kms:GenerateDataKey'], props.topicKeyArn, 'EncryptNotifications'),
        // Log delivery and X-Ray have no resource-level permissions (AWS documents `*` for both).
        allow([...vendedLogDeliveryActions], '*', 'DeliverLogs'),
        allow([...traceActions], '*', 'SendTraces'),
      ],
    });
    const definition = buildPipelineDefinition(resources, {
      workerTaskTimeoutSeconds: props.workerTimeoutSeconds + workerTaskMarginSeconds,
    });
    this.stateMachine = new SfnStateMachine(this, 'state-machine', {
      name: names.stateMachine,
      type: 'STANDARD',
      roleArn: role.arn,
      definition: JSON.stringify(definition),
      loggingConfiguration: {
        level: props.logLevel,
        includeExecutionData: false,
        logDestination: `${this.logGroup.arn}:*`,
      },
      tracingConfiguration: { enabled: true },
      dependsOn: [role.policy],
    });
  }
}
