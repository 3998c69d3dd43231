import { DataAwsIamOpenidConnectProvider } from '@cdktf/provider-aws/lib/data-aws-iam-openid-connect-provider';
import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Construct } from 'constructs';
import { deployStatements, planStatements, stateAccess, workloadActions } from '../deploy-permissions';
import { allow, policyDocument, type Statement } from '../iam';
import type { ResourceNames } from '../names';

export const githubOidcUrl = 'https://token.actions.githubusercontent.com';
const issuer = 'token.actions.githubusercontent.com';

export interface GithubDeployRolesProps {
  names: ResourceNames;
  /** `owner/name` of the repository whose workflows may assume the roles. */
  repository: string;
  createOidcProvider: boolean;
  stateBucketArn: string;
  lockTableArn: string;
}

/**
 * GitHub Actions' way into the account, without stored keys: the OIDC provider, a plan role for pull
 * requests and `main` (read-only plus the state lock), and a deploy role only a job running in this
 * environment's GitHub environment (required reviewers = the approval) can assume. The deploy role may
 * only create roles under the workload permissions boundary, so it cannot mint a role stronger than the
 * platform needs.
 */
export class GithubDeployRoles extends Construct {
  readonly planRole: IamRole;
  readonly deployRole: IamRole;
  readonly workloadBoundary: IamPolicy;

  constructor(scope: Construct, id: string, props: GithubDeployRolesProps) {
    super(scope, id);
    const { names, repository } = props;
    const providerArn = props.createOidcProvider
      ? new IamOpenidConnectProvider(this, 'oidc-provider', {
          url: githubOidcUrl,
          clientIdList: ['sts.amazonaws.com'],
        }).arn
      : new DataAwsIamOpenidConnectProvider(this, 'oidc-provider', { url: githubOidcUrl }).arn;

    const trust = (subjects: string[]): string =>
      policyDocument([
        {
          Effect: 'Allow',
          Principal: { Federated: providerArn },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: { [`${issuer}:aud`]: 'sts.amazonaws.com', [`${issuer}:sub`]: subjects },
          },
        },
      ]);
    const state = (access: 'read' | 'write') =>
      stateAccess(props.stateBucketArn, props.lockTableArn, names.env, access);

    this.workloadBoundary = new IamPolicy(this, 'workload-boundary', {
      name: names.workloadBoundary,
      description: 'Permissions boundary of every role the deploy role creates',
      policy: policyDocument([allow([...workloadActions], '*', 'WorkloadActionsOnly')]),
    });

    this.planRole = this.role(
      'plan',
      names.githubRole('plan'),
      trust([`repo:${repository}:pull_request`, `repo:${repository}:ref:refs/heads/main`]),
      [...planStatements(names), ...state('read')],
    );

    this.deployRole = this.role(
      'deploy',
      names.githubRole('deploy'),
      trust([`repo:${repository}:environment:${names.env}`]),
      [...deployStatements(names), ...state('write')],
    );
  }

  private role(id: string, name: string, assumeRolePolicy: string, statements: Statement[]): IamRole {
    const role = new IamRole(this, `${id}-role`, { name, assumeRolePolicy, maxSessionDuration: 3600 });
    new IamRolePolicy(this, `${id}-policy`, {
      name: `${id}-permissions`,
      role: role.id,
      policy: policyDocument(statements),
    });
    return role;
  }
}
