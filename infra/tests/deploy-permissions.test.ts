import { describe, expect, it } from '@jest/globals';
import { Testing } from 'cdktf';
import { modelArtifactsPrefix } from '../src/deploy-permissions';
import { deployEnvironments } from '../src/config';
import { imageNames, resourceNames } from '../src/names';
import { StateBackendStack } from '../src/stacks/state-backend';
import { configOf, resources, synth } from './helpers';
import { asList, type PolicyStatement } from './policy-checks';

// The GitHub roles' inline policies as synthesized: what deploy-images.yml needs to publish a release (push
// the images, put the model package), granted to the deploy role only and scoped to this environment.

function rolePolicies(env: (typeof deployEnvironments)[number]) {
  const json = synth(new StateBackendStack(Testing.app(), `${env}-state-backend`, configOf(env))).json;
  const statementsOf = (type: string, prefix: string) => {
    const [, policy] = resources(json, type).find(([address]) => address.startsWith(prefix))!;
    return (JSON.parse(String(policy.policy)) as { Statement: PolicyStatement[] }).Statement;
  };
  // Both roles read the platform through one managed policy attached beside their inline policy.
  const read = statementsOf('aws_iam_policy', 'github_platform-read');
  const [stateBucket] = resources(json, 'aws_s3_bucket').map(([address]) => `aws_s3_bucket.${address}`);
  return {
    deploy: [...read, ...statementsOf('aws_iam_role_policy', 'github_deploy')],
    plan: [...read, ...statementsOf('aws_iam_role_policy', 'github_plan')],
    stateBucket,
  };
}

/** The statements granting an action, with their resources. */
const granting = (statements: PolicyStatement[], action: string) =>
  statements
    .filter((s) => s.Effect === 'Allow' && asList(s.Action).includes(action))
    .map((s) => ({ Sid: s.Sid, Resource: asList(s.Resource), Condition: s.Condition }));

const pushActions = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:CompleteLayerUpload',
  'ecr:InitiateLayerUpload',
  'ecr:PutImage',
  'ecr:UploadLayerPart',
];

describe.each(deployEnvironments)('%s deploy role', (env) => {
  const config = configOf(env);
  const names = resourceNames(config);
  const { deploy, plan, stateBucket } = rolePolicies(env);
  const repositories = imageNames.map(
    (image) => `arn:aws:ecr:${names.region}:${names.account}:repository/${names.repository(image)}`,
  );

  it("pushes images to this environment's three repositories and nowhere else", () => {
    for (const action of [...pushActions, 'ecr:DescribeImages']) {
      expect(granting(deploy, action)).toEqual([{ Sid: 'PushImages', Resource: repositories }]);
    }
    // Terraform needs BatchGetImage too (Lambda checks the deployer can pull): both grants stay in the project.
    for (const { Resource } of granting(deploy, 'ecr:BatchGetImage')) {
      for (const arn of Resource)
        expect(arn.startsWith(`arn:aws:ecr:${names.region}:${names.account}:repository/${names.base}/`)).toBe(
          true,
        );
    }
  });

  it('logs in to the registry: the one action on "*" that AWS offers no resource for', () => {
    expect(granting(deploy, 'ecr:GetAuthorizationToken')).toEqual([
      { Sid: 'LogInToRegistry', Resource: ['*'] },
    ]);
  });

  it("puts and reads model packages under the models bucket's prefix only", () => {
    const prefix = [`arn:aws:s3:::${names.modelsBucket}/${modelArtifactsPrefix}*`];
    const notState = (g: { Sid?: string }) => !g.Sid?.startsWith('State');
    expect(granting(deploy, 's3:PutObject').filter(notState)).toEqual([
      { Sid: 'PublishModelPackage', Resource: prefix },
    ]);
    expect(granting(deploy, 's3:GetObject').filter(notState)).toEqual([
      { Sid: 'PublishModelPackage', Resource: prefix },
    ]);
    // The artifact SageMaker loads is below that prefix, so publishing it needs no change to the role.
    expect(`${config.MODEL_ARTIFACT_KEY}`.startsWith(modelArtifactsPrefix)).toBe(true);
  });

  it('leaves the plan role unable to publish anything', () => {
    for (const action of [...pushActions, 'ecr:GetAuthorizationToken', 'ecr:DescribeImages']) {
      expect(granting(plan, action)).toEqual([]);
    }
  });

  it("lets the plan role read only the AWS platform's state and its digest, never write a state or a lock", () => {
    // Pull requests can assume the plan role: a state it could overwrite would be theirs to rewrite, a lock it
    // could take would block the applies, and the Azure stack's state holds the account key.
    const state = `\${${stateBucket}.arn}/${env}`;
    expect(granting(plan, 's3:GetObject')).toEqual([
      { Sid: 'StateObjects', Resource: [`${state}/aws-platform.tfstate`], Condition: undefined },
    ]);
    for (const action of ['s3:PutObject', 's3:DeleteObject', 'dynamodb:PutItem', 'dynamodb:DeleteItem']) {
      expect(granting(plan, action)).toEqual([]);
    }
    const lockItems = (statements: PolicyStatement[], action: string) =>
      granting(statements, action).map((g) => g.Condition);
    expect(lockItems(plan, 'dynamodb:GetItem')).toEqual([
      {
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': [
            `${config.TF_STATE_BUCKET}/${env}/aws-platform.tfstate`,
            `${config.TF_STATE_BUCKET}/${env}/aws-platform.tfstate-md5`,
          ],
        },
      },
    ]);
    expect(JSON.stringify(plan)).not.toContain('azure-openai.tfstate');
    // The deploy role reads and writes every state of its environment, the Azure stack's included.
    expect(granting(deploy, 's3:PutObject').map((g) => g.Resource)).toContainEqual([`${state}/*`]);
    expect(granting(deploy, 's3:GetObject').map((g) => g.Resource)).toContainEqual([`${state}/*`]);
    expect(lockItems(deploy, 'dynamodb:PutItem')).toEqual([
      {
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': [
            `${config.TF_STATE_BUCKET}/${env}/*`,
            `${config.TF_STATE_BUCKET}/${env}/*-md5`,
          ],
        },
      },
    ]);
  });

  it('never lets the plan role read or write a secret value', () => {
    for (const action of [
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      'secretsmanager:BatchGetSecretValue',
    ]) {
      expect(granting(plan, action)).toEqual([]);
    }
    expect(
      plan
        .flatMap((s) => asList(s.Action))
        .filter((a) => a.startsWith('secretsmanager:'))
        .sort(),
    ).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetResourcePolicy',
      'secretsmanager:ListSecretVersionIds',
    ]);
  });

  it("lets the deploy role read and put the Azure key's value only, never the API keys'", () => {
    const azureKeySecret = `arn:aws:secretsmanager:${names.region}:${names.account}:secret:${names.azureKeySecret}-??????`;
    for (const action of ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']) {
      expect(granting(deploy, action)).toEqual([{ Sid: 'SyncAzureKey', Resource: [azureKeySecret] }]);
    }
  });
});
