import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Construct } from 'constructs';

// IAM as plain JSON documents: one shape for every policy, easy to read in the synthesized JSON and to check
// there (tests/policies.test.ts refuses any wildcard action). Terraform references inside (ARNs of
// resources) render as `${...}` interpolations.

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: string | string[];
  Principal?: Record<string, string | string[]>;
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

/** What a role needs to set up vended log delivery (Step Functions logging): AWS documents `*` for all of it. */
export const vendedLogDeliveryActions = [
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
] as const;

/** Sending traces and reading sampling rules: X-Ray has no resource types. */
export const traceActions = [
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
] as const;

export function policyDocument(statements: Statement[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

export function allow(action: string | string[], resource: string | string[], sid?: string): Statement {
  return { ...(sid ? { Sid: sid } : {}), Effect: 'Allow', Action: action, Resource: resource };
}

export interface ServiceRoleProps {
  name: string;
  /** The service principal that assumes the role, e.g. `lambda.amazonaws.com`. */
  service: string;
  /** The account the service acts for (confused-deputy guard for services that support `aws:SourceAccount`). */
  sourceAccount?: string;
  statements: Statement[];
  /** The workload permissions boundary (deploy-permissions.ts): the deploy role may only create roles with it. */
  permissionsBoundary: string;
}

/** A role a service assumes, with one inline policy. */
export class ServiceRole extends Construct {
  readonly role: IamRole;
  readonly policy: IamRolePolicy;

  constructor(scope: Construct, id: string, props: ServiceRoleProps) {
    super(scope, id);
    const trust: Statement = {
      Effect: 'Allow',
      Principal: { Service: props.service },
      Action: 'sts:AssumeRole',
      ...(props.sourceAccount
        ? { Condition: { StringEquals: { 'aws:SourceAccount': props.sourceAccount } } }
        : {}),
    };
    this.role = new IamRole(this, 'role', {
      name: props.name,
      assumeRolePolicy: policyDocument([trust]),
      permissionsBoundary: props.permissionsBoundary,
    });
    this.policy = new IamRolePolicy(this, 'policy', {
      name: 'least-privilege',
      role: this.role.id,
      policy: policyDocument(props.statements),
    });
  }

  get arn(): string {
    return this.role.arn;
  }
}
