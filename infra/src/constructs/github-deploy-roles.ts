import { DataAwsIamOpenidConnectProvider } from '@cdktf/provider-aws/lib/data-aws-iam-openid-connect-provider';
import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { Construct } from 'constructs';
import {
  deployStatements,
  planStatements,
  purgeStateVersionsStatements,
  stateAccess,
  workloadBoundaryStatements,
  type StateStore,
} from '../deploy-permissions';
import { policyDocument, type Statement } from '../iam';
import { stateKey, statesThatHeldTheAzureKey, type ResourceNames } from '../names';

export const githubOidcUrl = 'https://token.actions.githubusercontent.com';
const issuer = 'token.actions.githubusercontent.com';

/**
 * The OIDC subject template the repository must use (set once, docs/deployment.md step 3): the token's
 * `sub` names the ref as well as the context, e.g. `repo:o/r:environment:prod:ref:refs/heads/main`. AWS
 * matches no other GitHub claim (`job_workflow_ref` is not a condition key), so the branch has to be in `sub`.
 */
export const githubSubjectClaimKeys = ['repo', 'context', 'ref'] as const;

/**
 * The `sub` claims each role trusts, in that template. Plan: a pull request (any number; git refs cannot
 * hold a `:`) and a push to main (whose context is the ref itself, hence twice). Deploy: a job in the
 * environment's GitHub environment, running from main. Nothing else gets a token for these roles.
 */
export function githubSubjects(repository: string, env: string): Record<'plan' | 'deploy', string[]> {
  const repo = `repo:${repository}`;
  return {
    plan: [`${repo}:pull_request:ref:refs/pull/*/merge`, `${repo}:ref:refs/heads/main:ref:refs/heads/main`],
    deploy: [`${repo}:environment:${env}:ref:refs/heads/main`],
  };
}

export interface GithubDeployRolesProps {
  names: ResourceNames;
  /** `owner/name` of the repository whose workflows may assume the roles. */
  repository: string;
  createOidcProvider: boolean;
  state: StateStore;
}

/**
 * GitHub Actions' way into the account, without stored keys: the OIDC provider, a plan role for pull
 * requests and `main` (read-only, no secret values, the AWS platform's state, never its lock), and a deploy
 * role only a job running from `main` in this environment's GitHub environment (required reviewers = the
 * approval) can assume. The deploy role may only create roles under the workload permissions boundary,
 * which names this environment's own resources, so it cannot mint a role stronger than the platform needs.
 */
export class GithubDeployRoles extends Construct {
  readonly planRole: IamRole;
  readonly deployRole: IamRole;
  readonly workloadBoundary: IamPolicy;
  readonly platformRead: IamPolicy;

  constructor(scope: Construct, id: string, props: GithubDeployRolesProps) {
    super(scope, id);
    const { names, repository } = props;
    const providerArn = props.createOidcProvider
      ? new IamOpenidConnectProvider(this, 'oidc-provider', {
          url: githubOidcUrl,
          clientIdList: ['sts.amazonaws.com'],
        }).arn
      : new DataAwsIamOpenidConnectProvider(this, 'oidc-provider', { url: githubOidcUrl }).arn;

    // StringLike only where a subject has a wildcard (the pull request's number).
    const trust = (subjects: string[]): string => {
      const operator = subjects.some((s) => s.includes('*')) ? 'StringLike' : 'StringEquals';
      return policyDocument([
        {
          Effect: 'Allow',
          Principal: { Federated: providerArn },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition:
            operator === 'StringEquals'
              ? { StringEquals: { [`${issuer}:aud`]: 'sts.amazonaws.com', [`${issuer}:sub`]: subjects } }
              : {
                  StringEquals: { [`${issuer}:aud`]: 'sts.amazonaws.com' },
                  StringLike: { [`${issuer}:sub`]: subjects },
                },
        },
      ]);
    };
    const subjects = githubSubjects(repository, names.env);
    // Pull requests can assume the plan role, so it reads the one state that holds no secret: the AWS
    // platform's (its secrets have no value in Terraform). The Azure stack's state holds the account key
    // (azurerm keeps it in the account's attributes), so only the deploy role reads it, and the Azure stack
    // is planned in the approved deploy job, not on pull requests.
    const planState = stateAccess(props.state, [stateKey({ DEPLOY_ENV: names.env }, 'aws-platform')], 'read');
    const deployState = [
      ...stateAccess(props.state, [`${names.env}/*`], 'write'),
      ...purgeStateVersionsStatements(props.state, statesThatHeldTheAzureKey({ DEPLOY_ENV: names.env })),
    ];

    this.workloadBoundary = new IamPolicy(this, 'workload-boundary', {
      name: names.workloadBoundary,
      description: 'Permissions boundary of every role the deploy role creates',
      policy: policyDocument(workloadBoundaryStatements(names)),
    });

    this.platformRead = new IamPolicy(this, 'platform-read', {
      name: names.githubReadPolicy,
      description: 'Read the AWS platform: what both GitHub roles need to plan it',
      policy: policyDocument(planStatements(names)),
    });

    this.planRole = this.role('plan', names.githubRole('plan'), trust(subjects.plan), planState);

    this.deployRole = this.role('deploy', names.githubRole('deploy'), trust(subjects.deploy), [
      ...deployStatements(names),
      ...deployState,
    ]);
  }

  private role(id: string, name: string, assumeRolePolicy: string, statements: Statement[]): IamRole {
    const role = new IamRole(this, `${id}-role`, { name, assumeRolePolicy, maxSessionDuration: 3600 });
    new IamRolePolicy(this, `${id}-policy`, {
      name: `${id}-permissions`,
      role: role.id,
      policy: policyDocument(statements),
    });
    new IamRolePolicyAttachment(this, `${id}-platform-read`, {
      role: role.name,
      policyArn: this.platformRead.arn,
    });
    return role;
  }
}
