import { describe, expect, it } from '@jest/globals';
import { TerraformResource } from 'cdktf';
import { wildcardResourceActions } from '../src/deploy-permissions';
import { deployEnvironments } from '../src/config';
import { githubSubjectClaimKeys } from '../src/constructs/github-deploy-roles';
import { resourceNames, type ResourceNames } from '../src/names';
import { configOf, resources, synthAll, type SynthesizedStack } from './helpers';
import { asList, isAllowed, policyDocuments, type PolicyStatement } from './policy-checks';

// What the GitHub roles and the workload boundary may reach, evaluated over the synthesized stacks with IAM's
// matching rules (policy-checks.ts `isAllowed`): each environment's roles reach that environment's own
// resources and nothing else, and the deploy role can create (and tag) everything the platform consists of.

const stacks = synthAll();
const stackOf = (env: string, kind: string) => stacks.find((s) => s.name === `${env}-${kind}`)!;

function statementsAt(stack: SynthesizedStack, where: string): PolicyStatement[] {
  const document = policyDocuments(stack.json).find((d) => d.where.startsWith(where));
  if (!document) throw new Error(`no policy at ${where} in ${stack.name}`);
  return document.statements;
}

/** The statements with the backend's Terraform references (state bucket, lock table) as the ARNs they become. */
function resolved(
  statements: PolicyStatement[],
  stack: SynthesizedStack,
  names: ResourceNames,
): PolicyStatement[] {
  const arns: Record<string, string> = {};
  for (const [address, bucket] of resources(stack.json, 'aws_s3_bucket')) {
    arns[`\${aws_s3_bucket.${address}.arn}`] = `arn:aws:s3:::${String(bucket.bucket)}`;
  }
  for (const [address, table] of resources(stack.json, 'aws_dynamodb_table')) {
    arns[`\${aws_dynamodb_table.${address}.arn}`] =
      `arn:aws:dynamodb:${names.region}:${names.account}:table/${String(table.name)}`;
  }
  const text = Object.entries(arns).reduce(
    (t, [ref, arn]) => t.split(ref).join(arn),
    JSON.stringify(statements),
  );
  expect(text).not.toMatch(/\$\{aws_(s3_bucket|dynamodb_table)\./);
  return JSON.parse(text) as PolicyStatement[];
}

function rolesOf(env: string) {
  const backend = stackOf(env, 'state-backend');
  const names = resourceNames(configOf(env as 'dev'));
  // Both roles read the platform through one managed policy, beside their inline policies.
  const read = statementsAt(backend, 'aws_iam_policy.github_platform-read');
  return {
    deploy: resolved(
      [...read, ...statementsAt(backend, 'aws_iam_role_policy.github_deploy-policy')],
      backend,
      names,
    ),
    plan: resolved(
      [...read, ...statementsAt(backend, 'aws_iam_role_policy.github_plan-policy')],
      backend,
      names,
    ),
    boundary: statementsAt(backend, 'aws_iam_policy.github_workload-boundary'),
    deployTrust: statementsAt(backend, 'aws_iam_role.github_deploy-role'),
    planTrust: statementsAt(backend, 'aws_iam_role.github_plan-role'),
  };
}

describe('wildcard resources', () => {
  it('appear only for the actions AWS gives no resource, each listed with its reason', () => {
    const offenders = stacks.flatMap((stack) =>
      policyDocuments(stack.json)
        // Identity policies: in a key or bucket policy, `*` is that key or bucket itself.
        .filter((d) => /^aws_iam_(role_policy|policy)\./.test(d.where))
        .flatMap((d) =>
          d.statements
            .filter((s) => s.Effect === 'Allow' && asList(s.Resource).includes('*'))
            .flatMap((s) => asList(s.Action).filter((a) => !(a in wildcardResourceActions)))
            .map((action) => `${stack.name} ${d.where}: ${action} on *`),
        ),
    );
    expect(offenders).toEqual([]);
    for (const reason of Object.values(wildcardResourceActions)) expect(reason.length).toBeGreaterThan(10);
  });

  it('are refused by the check itself when an unlisted action asks for one', () => {
    expect('s3:GetObject' in wildcardResourceActions).toBe(false);
    expect('secretsmanager:GetSecretValue' in wildcardResourceActions).toBe(false);
  });
});

describe.each(deployEnvironments)('%s', (env) => {
  const names = resourceNames(configOf(env));
  const other = resourceNames(configOf(env === 'dev' ? 'prod' : 'dev'));
  const config = configOf(env);
  const roles = rolesOf(env);
  const secretArn = (n: ResourceNames, name: string) =>
    `arn:aws:secretsmanager:${n.region}:${n.account}:secret:${name}-AbC123`;

  describe('the workload permissions boundary', () => {
    const allows = (action: string, resource: string, context?: Record<string, string>) =>
      isAllowed(roles.boundary, { action, resource, context });

    it("reaches this environment's secrets, buckets, table, functions and pipeline", () => {
      expect(allows('secretsmanager:GetSecretValue', secretArn(names, names.azureKeySecret))).toBe(true);
      expect(allows('s3:GetObject', `arn:aws:s3:::${names.imagesBucket}/images/a.jpg`)).toBe(true);
      expect(allows('s3:GetObject', `arn:aws:s3:::${names.modelsBucket}/${config.MODEL_ARTIFACT_KEY}`)).toBe(
        true,
      );
      const table = `arn:aws:dynamodb:${names.region}:${names.account}:table/${names.resultsTable}`;
      expect(allows('dynamodb:PutItem', table)).toBe(true);
      expect(
        allows(
          'lambda:InvokeFunction',
          `arn:aws:lambda:${names.region}:${names.account}:function:${names.functionName('worker')}`,
        ),
      ).toBe(true);
      expect(allows('states:StartExecution', names.stateMachineArn)).toBe(true);
      expect(allows('sns:Publish', names.topicArn)).toBe(true);
    });

    it("reaches no other environment's secrets, buckets or table, nor the Terraform state", () => {
      expect(allows('secretsmanager:GetSecretValue', secretArn(other, other.azureKeySecret))).toBe(false);
      expect(allows('secretsmanager:GetSecretValue', secretArn(names, 'someone-else/db-password'))).toBe(
        false,
      );
      expect(allows('s3:GetObject', `arn:aws:s3:::${other.imagesBucket}/images/a.jpg`)).toBe(false);
      expect(
        allows('s3:GetObject', `arn:aws:s3:::${config.TF_STATE_BUCKET}/${env}/azure-openai.tfstate`),
      ).toBe(false);
      expect(allows('s3:GetObject', 'arn:aws:s3:::any-bucket/any-key')).toBe(false);
      const lockTable = `arn:aws:dynamodb:${names.region}:${names.account}:table/${config.TF_STATE_LOCK_TABLE}`;
      expect(allows('dynamodb:GetItem', lockTable)).toBe(false);
      expect(allows('sns:Publish', names.alarmsTopicArn)).toBe(false);
      expect(allows('sns:Publish', other.topicArn)).toBe(false);
    });

    it('lets keys be used only through the services that hold this environment’s data', () => {
      const key = `arn:aws:kms:${names.region}:${names.account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
      expect(
        allows('kms:Decrypt', key, { 'kms:ViaService': `secretsmanager.${names.region}.amazonaws.com` }),
      ).toBe(true);
      expect(allows('kms:Decrypt', key)).toBe(false);
      expect(allows('kms:Decrypt', key, { 'kms:ViaService': `ec2.${names.region}.amazonaws.com` })).toBe(
        false,
      );
    });
  });

  describe('the deploy role', () => {
    const allows = (action: string, resource: string, context?: Record<string, string | string[]>) =>
      isAllowed(roles.deploy, { action, resource, context });

    it('cannot make a role trust anyone else: iam:UpdateAssumeRolePolicy is absent or conditioned', () => {
      const granting = roles.deploy.filter((s) => asList(s.Action).includes('iam:UpdateAssumeRolePolicy'));
      expect(granting.filter((s) => s.Condition === undefined)).toEqual([]);
    });

    it('writes role policies only onto roles that carry the boundary', () => {
      const role = `arn:aws:iam::${names.account}:role/${names.role('api-function')}`;
      const boundary = { 'iam:PermissionsBoundary': names.workloadBoundaryArn };
      expect(allows('iam:PutRolePolicy', role, boundary)).toBe(true);
      expect(allows('iam:PutRolePolicy', role)).toBe(false);
      expect(allows('iam:PutRolePolicy', names.githubRoleArn('deploy'), boundary)).toBe(false);
    });

    it("changes this environment's buckets, table, topics and log groups only", () => {
      expect(allows('s3:PutBucketPolicy', `arn:aws:s3:::${names.imagesBucket}`)).toBe(true);
      expect(allows('s3:PutBucketPolicy', `arn:aws:s3:::${config.TF_STATE_BUCKET}`)).toBe(false);
      expect(allows('s3:DeleteBucket', `arn:aws:s3:::${other.imagesBucket}`)).toBe(false);
      const lockTable = `arn:aws:dynamodb:${names.region}:${names.account}:table/${config.TF_STATE_LOCK_TABLE}`;
      expect(allows('dynamodb:DeleteTable', lockTable)).toBe(false);
      const logGroup = (name: string) => `arn:aws:logs:${names.region}:${names.account}:log-group:${name}`;
      expect(allows('logs:DeleteLogGroup', logGroup(names.functionLogGroup('api')))).toBe(true);
      expect(allows('logs:DeleteLogGroup', logGroup(other.functionLogGroup('api')))).toBe(false);
      expect(allows('logs:DeleteLogGroup', logGroup('/aws/lambda/someone-elses-function'))).toBe(false);
      expect(allows('sns:SetTopicAttributes', other.topicArn)).toBe(false);
    });

    // The provider's default tags ride on every create call; AWS authorizes them as the service's tagging
    // action, on the resource being created, with the tags as aws:RequestTag/* (a key's ARN does not exist yet).
    it('may tag everything it creates, in the create call itself', () => {
      const platform = stackOf(env, 'aws-platform');
      const tags = { project: names.project, environment: names.env, 'managed-by': 'cdktf' };
      const context = {
        ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
        'aws:TagKeys': Object.keys(tags),
      };
      const tagged = platform.stack.node
        .findAll()
        .filter((c): c is TerraformResource => c instanceof TerraformResource && 'tags' in c);
      const types = [...new Set(tagged.map((r) => r.terraformResourceType))].sort();
      // Every tagged type the stack has is one this test knows how AWS authorizes: a new one fails here.
      expect(types).toEqual(Object.keys(tagOnCreate(names)).sort());
      const refused = tagged.flatMap((resource) => {
        const type = resource.terraformResourceType;
        const config = resources(platform.json, type).find(
          ([address]) => address === resource.friendlyUniqueId,
        )![1];
        const { action, resource: arn } = tagOnCreate(names)[type]!(config);
        return allows(action, arn, context)
          ? []
          : [`${type}.${resource.friendlyUniqueId}: ${action} on ${arn}`];
      });
      expect(refused).toEqual([]);
    });

    it('may make every call pnpm preflight makes in the deploy job', () => {
      const { region, account } = names;
      const arn = (service: string, resource: string) =>
        `arn:aws:${service}:${region}:${account}:${resource}`;
      const calls: [string, string][] = [
        ['s3:ListBucket', `arn:aws:s3:::${config.TF_STATE_BUCKET}`], // HeadBucket
        ['dynamodb:DescribeTable', arn('dynamodb', `table/${config.TF_STATE_LOCK_TABLE}`)],
        ...['api', 'worker', 'model-server'].map((image): [string, string] => [
          'ecr:DescribeImages',
          arn('ecr', `repository/${names.base}/${image}`),
        ]),
        ['s3:GetObject', `arn:aws:s3:::${names.modelsBucket}/${config.MODEL_ARTIFACT_KEY}`], // HeadObject
        ['lambda:GetAccountSettings', '*'],
        ['lambda:GetFunctionConcurrency', arn('lambda', `function:${names.functionName('api')}`)],
        ['servicequotas:GetServiceQuota', arn('servicequotas', 'sagemaker/L-96300102')],
        ['servicequotas:GetAWSDefaultServiceQuota', '*'],
      ];
      expect(calls.filter(([action, resource]) => !allows(action, resource))).toEqual([]);
    });

    it('may create the notifications key only with the environment’s tags on it', () => {
      const context = { 'aws:RequestTag/project': names.project, 'aws:RequestTag/environment': names.env };
      expect(allows('kms:CreateKey', '*', context)).toBe(true);
      expect(allows('kms:TagResource', '*', context)).toBe(true);
      expect(allows('kms:TagResource', '*', { ...context, 'aws:RequestTag/environment': other.env })).toBe(
        false,
      );
      expect(allows('kms:CreateKey', '*')).toBe(false);
    });
  });

  describe('the roles’ trust', () => {
    const token = (sub: string) => ({
      action: 'sts:AssumeRoleWithWebIdentity',
      resource: '*',
      context: {
        'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
        'token.actions.githubusercontent.com:sub': sub,
      },
    });
    const repo = `repo:${config.DEPLOY_REPOSITORY}`;
    const trusts = (statements: PolicyStatement[], sub: string) =>
      isAllowed(
        statements.map((s) => ({ ...s, Resource: '*' })),
        token(sub),
      );

    it('binds the deploy role (apply and release) to a job in the environment running from main', () => {
      expect(githubSubjectClaimKeys).toEqual(['repo', 'context', 'ref']);
      expect(trusts(roles.deployTrust, `${repo}:environment:${env}:ref:refs/heads/main`)).toBe(true);
      expect(trusts(roles.deployTrust, `${repo}:environment:${env}:ref:refs/heads/feature`)).toBe(false);
      expect(trusts(roles.deployTrust, `${repo}:environment:${env}:ref:refs/tags/v1.0.0`)).toBe(false);
      expect(trusts(roles.deployTrust, `${repo}:environment:${env}`)).toBe(false);
      expect(trusts(roles.deployTrust, `${repo}:environment:${other.env}:ref:refs/heads/main`)).toBe(false);
      expect(trusts(roles.deployTrust, `${repo}:pull_request:ref:refs/pull/7/merge`)).toBe(false);
      expect(trusts(roles.deployTrust, `repo:someone/fork:environment:${env}:ref:refs/heads/main`)).toBe(
        false,
      );
    });

    it('lets the plan role be assumed by pull requests and main, never by an environment job', () => {
      expect(trusts(roles.planTrust, `${repo}:pull_request:ref:refs/pull/12/merge`)).toBe(true);
      expect(trusts(roles.planTrust, `${repo}:ref:refs/heads/main:ref:refs/heads/main`)).toBe(true);
      expect(trusts(roles.planTrust, `${repo}:ref:refs/heads/feature:ref:refs/heads/feature`)).toBe(false);
      expect(trusts(roles.planTrust, `repo:someone/fork:pull_request:ref:refs/pull/12/merge`)).toBe(false);
    });
  });

  describe('the plan role', () => {
    it('takes no lock: no lock-table writes or deletes, no .tflock writes', () => {
      const writes = roles.plan.flatMap((s) =>
        asList(s.Action).filter((a) =>
          [
            'dynamodb:PutItem',
            'dynamodb:DeleteItem',
            'dynamodb:UpdateItem',
            's3:PutObject',
            's3:DeleteObject',
          ].includes(a),
        ),
      );
      expect(writes).toEqual([]);
      const lockFile = `arn:aws:s3:::${config.TF_STATE_BUCKET}/${env}/aws-platform.tfstate.tflock`;
      expect(JSON.stringify(roles.plan)).not.toContain('.tflock');
      expect(isAllowed(roles.plan, { action: 's3:PutObject', resource: lockFile })).toBe(false);
      // What a -lock=false plan does need: the state and its digest item.
      const state = `arn:aws:s3:::${config.TF_STATE_BUCKET}/${env}/aws-platform.tfstate`;
      const lockTable = `arn:aws:dynamodb:${names.region}:${names.account}:table/${config.TF_STATE_LOCK_TABLE}`;
      const digest = {
        'dynamodb:LeadingKeys': [`${config.TF_STATE_BUCKET}/${env}/aws-platform.tfstate-md5`],
      };
      expect(isAllowed(roles.plan, { action: 's3:GetObject', resource: state })).toBe(true);
      expect(
        isAllowed(roles.plan, { action: 'dynamodb:GetItem', resource: lockTable, context: digest }),
      ).toBe(true);
      expect(
        isAllowed(roles.plan, { action: 'dynamodb:PutItem', resource: lockTable, context: digest }),
      ).toBe(false);
      expect(
        isAllowed(roles.deploy, { action: 'dynamodb:PutItem', resource: lockTable, context: digest }),
      ).toBe(true);
    });
  });
});

type TagCheck = (config: Record<string, unknown>) => { action: string; resource: string };

/** How AWS authorizes tags given when each tagged resource type is created, and on which ARN. */
function tagOnCreate(names: ResourceNames): Record<string, TagCheck> {
  const { region, account } = names;
  const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${account}:${resource}`;
  const named = (config: Record<string, unknown>, key: string) => String(config[key]);
  return {
    aws_apigatewayv2_api: () => ({
      action: 'apigateway:POST',
      resource: `arn:aws:apigateway:${region}::/apis`,
    }),
    aws_apigatewayv2_stage: () => ({
      action: 'apigateway:POST',
      resource: `arn:aws:apigateway:${region}::/apis/a1b2c3d4e5/stages`,
    }),
    aws_bedrock_guardrail: () => ({
      action: 'bedrock:TagResource',
      resource: arn('bedrock', 'guardrail/a1b2c3d4e5f6'),
    }),
    aws_cloudwatch_log_group: (c) => ({
      action: 'logs:TagResource',
      resource: arn('logs', `log-group:${named(c, 'name')}`),
    }),
    aws_cloudwatch_metric_alarm: (c) => ({
      action: 'cloudwatch:TagResource',
      resource: arn('cloudwatch', `alarm:${named(c, 'alarm_name')}`),
    }),
    aws_dynamodb_table: (c) => ({
      action: 'dynamodb:TagResource',
      resource: arn('dynamodb', `table/${named(c, 'name')}`),
    }),
    aws_ecr_repository: (c) => ({
      action: 'ecr:TagResource',
      resource: arn('ecr', `repository/${named(c, 'name')}`),
    }),
    aws_iam_role: (c) => ({
      action: 'iam:TagRole',
      resource: `arn:aws:iam::${account}:role/${named(c, 'name')}`,
    }),
    // The key has no ARN before CreateKey returns: AWS checks kms:TagResource on `*`.
    aws_kms_key: () => ({ action: 'kms:TagResource', resource: '*' }),
    aws_lambda_function: (c) => ({
      action: 'lambda:TagResource',
      resource: arn('lambda', `function:${named(c, 'function_name')}`),
    }),
    aws_s3_bucket: (c) => ({ action: 's3:TagResource', resource: `arn:aws:s3:::${named(c, 'bucket')}` }),
    aws_sagemaker_endpoint: (c) => ({
      action: 'sagemaker:AddTags',
      resource: arn('sagemaker', `endpoint/${named(c, 'name')}`),
    }),
    aws_sagemaker_endpoint_configuration: (c) => ({
      action: 'sagemaker:AddTags',
      resource: arn('sagemaker', `endpoint-config/${named(c, 'name_prefix')}20260101abcdef`),
    }),
    aws_sagemaker_model: (c) => ({
      action: 'sagemaker:AddTags',
      resource: arn('sagemaker', `model/${named(c, 'name')}`),
    }),
    aws_secretsmanager_secret: (c) => ({
      action: 'secretsmanager:TagResource',
      resource: arn('secretsmanager', `secret:${named(c, 'name')}-AbC123`),
    }),
    aws_sfn_state_machine: (c) => ({
      action: 'states:TagResource',
      resource: arn('states', `stateMachine:${named(c, 'name')}`),
    }),
    aws_sns_topic: (c) => ({ action: 'sns:TagResource', resource: arn('sns', named(c, 'name')) }),
  };
}
