import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { Construct } from 'constructs';
import { allow, ServiceRole, type Statement } from '../iam';
import type { FunctionRole, ResourceNames } from '../names';

export interface ContainerFunctionProps {
  names: ResourceNames;
  role: FunctionRole;
  imageUri: string;
  /** Overrides the image's CMD (the handler), e.g. the ingest handler in the worker image. */
  command?: string[];
  memoryMb: number;
  timeoutSeconds: number;
  reservedConcurrency?: number;
  /** Publish a version on every change (needed for an alias with provisioned concurrency). */
  publish?: boolean;
  environment: Record<string, string>;
  logRetentionDays: number;
  /** What the function may do beyond writing its logs and traces. */
  statements: Statement[];
}

/**
 * A Lambda function from a container image, with its own role, an explicitly created log group (so the
 * retention is ours, not "never expire") and active X-Ray tracing.
 */
export class ContainerFunction extends Construct {
  readonly function: LambdaFunction;
  readonly logGroup: CloudwatchLogGroup;
  readonly role: ServiceRole;

  constructor(scope: Construct, id: string, props: ContainerFunctionProps) {
    super(scope, id);
    const { names } = props;
    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: names.functionLogGroup(props.role),
      retentionInDays: props.logRetentionDays,
    });
    this.role = new ServiceRole(this, 'role', {
      name: names.role(`${props.role}-function`),
      service: 'lambda.amazonaws.com',
      permissionsBoundary: names.workloadBoundaryArn,
      statements: [
        allow(['logs:CreateLogStream', 'logs:PutLogEvents'], `${this.logGroup.arn}:*`, 'WriteOwnLogs'),
        // X-Ray has no resource-level permissions for sending traces.
        allow(['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], '*', 'SendTraces'),
        ...props.statements,
      ],
    });
    this.function = new LambdaFunction(this, 'function', {
      functionName: names.functionName(props.role),
      role: this.role.arn,
      packageType: 'Image',
      imageUri: props.imageUri,
      ...(props.command ? { imageConfig: { command: props.command } } : {}),
      architectures: ['x86_64'],
      memorySize: props.memoryMb,
      timeout: props.timeoutSeconds,
      publish: props.publish ?? false,
      ...(props.reservedConcurrency ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
      environment: { variables: props.environment },
      tracingConfig: { mode: 'Active' },
      loggingConfig: { logFormat: 'JSON', logGroup: this.logGroup.name },
      // The log group must exist first (or Lambda makes one that never expires), and the policy too.
      dependsOn: [this.logGroup, this.role.policy],
    });
  }
}
