import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { LocalBackend, TerraformOutput, TerraformStack } from 'cdktf';
import type { Config } from '@mc-vision/core/config/index';
import type { Construct } from 'constructs';
import { GithubDeployRoles } from '../constructs/github-deploy-roles';
import { SecureBucket } from '../constructs/secure-bucket';
import { resourceNames } from '../names';
import { awsProvider } from '../providers';

/**
 * What every other stack's state lives in, bootstrapped once per environment from a laptop with local
 * state (kept in infra/state/, outside cdktf.out): the state bucket, the lock table, and the GitHub OIDC
 * roles the workflows plan and deploy with.
 */
export class StateBackendStack extends TerraformStack {
  constructor(scope: Construct, id: string, config: Config) {
    super(scope, id);
    const names = resourceNames(config);
    awsProvider(this, config);
    // Relative to cdktf.out/stacks/<stack>/, where Terraform runs.
    new LocalBackend(this, { path: `../../../state/${config.DEPLOY_ENV}-state-backend.tfstate` });

    const bucket = new SecureBucket(this, 'state-bucket', {
      name: config.TF_STATE_BUCKET,
      noncurrentVersionDays: config.NONCURRENT_VERSION_DAYS,
    });
    const lockTable = new DynamodbTable(this, 'lock-table', {
      name: config.TF_STATE_LOCK_TABLE,
      billingMode: 'PAY_PER_REQUEST',
      hashKey: 'LockID',
      attribute: [{ name: 'LockID', type: 'S' }],
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
      deletionProtectionEnabled: true,
    });
    const github = new GithubDeployRoles(this, 'github', {
      names,
      repository: config.DEPLOY_REPOSITORY,
      createOidcProvider: config.GITHUB_OIDC_PROVIDER === 'create',
      state: { bucketName: config.TF_STATE_BUCKET, bucketArn: bucket.arn, lockTableArn: lockTable.arn },
    });

    new TerraformOutput(this, 'state_bucket', { value: bucket.name });
    new TerraformOutput(this, 'lock_table', { value: lockTable.name });
    new TerraformOutput(this, 'plan_role_arn', { value: github.planRole.arn });
    new TerraformOutput(this, 'deploy_role_arn', { value: github.deployRole.arn });
  }
}
