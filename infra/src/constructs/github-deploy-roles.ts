import { DataAwsIamOpenidConnectProvider } from '@cdktf/provider-aws/lib/data-aws-iam-openid-connect-provider';
import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Construct } from 'constructs';
import {
  deployStatements,
  planStatements,
  stateAccess,
  workloadActions,
  type StateStore,
} from '../deploy-permissions';
import { allow, policyDocument, type Statement } from '../iam';
import { stateKey, type ResourceNames } from '../names';

export const githubOidcUrl = 'https://token.actions.githubusercontent.com';
const issuer = 'token.actions.githubusercontent.com';

export interface GithubDeployRolesProps {
  names: ResourceNames;
  /** `owner/name` of the repository whose workflows may assume the roles. */
  repository: string;
  createOidcProvider: boolean;
  state: StateStore;
}

/**
 * GitHub Actions' way into the account, without stored keys: the OIDC provider, a plan role for pull
 * requests and `main` (read-only, no secret values, the AWS platform's state and its lock), and a deploy role only a job running in this
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
    // Pull requests can assume the plan role, so it reads the one state that holds no secret: the AWS
    // platform's (its secrets have no value in Terraform). The Azure stack's state holds the account key
    // (azurerm keeps it in the account's attributes), so only the deploy role reads it, and the Azure stack
    // is planned in the approved deploy job, not on pull requests.
    const planState = stateAccess(props.state, [stateKey({ DEPLOY_ENV: names.env }, 'aws-platform')], 'read');
    const deployState = stateAccess(props.state, [`${names.env}/*`], 'write');

    this.workloadBoundary = new IamPolicy(this, 'workload-boundary', {
      name: names.workloadBoundary,
      description: 'Permissions boundary of every role the deploy role creates',
      policy: policyDocument([allow([...workloadActions], '*', 'WorkloadActionsOnly')]),
    });

    this.planRole = this.role(
      'plan',
      names.githubRole('plan'),
      trust([`repo:${repository}:pull_request`, `repo:${repository}:ref:refs/heads/main`]),
      [...planStatements(names), ...planState],
    );

    this.deployRole = this.role(
      'deploy',
      names.githubRole('deploy'),
      trust([`repo:${repository}:environment:${names.env}`]),
      [...deployStatements(names), ...deployState],
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
