import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3Backend, type TerraformStack } from 'cdktf';
import type { Config } from '@mc-vision/core/config/index';
import { stateKey } from './names';

/** The AWS provider, locked to the configured account so a wrong profile fails the plan, not the account. */
export function awsProvider(stack: TerraformStack, config: Config): AwsProvider {
  return new AwsProvider(stack, 'aws', {
    region: config.AWS_REGION,
    allowedAccountIds: [config.AWS_ACCOUNT_ID],
    defaultTags: [
      { tags: { project: config.NAME_PREFIX, environment: config.DEPLOY_ENV, 'managed-by': 'cdktf' } },
    ],
  });
}

/**
 * State in the state bucket, encrypted, locked twice while DynamoDB locking is being retired: by the
 * DynamoDB table and by Terraform's native S3 lock file (`use_lockfile`, Terraform >= 1.10). cdktf 0.21's
 * S3Backend has no `useLockfile` option, hence the override.
 */
export function s3Backend(stack: TerraformStack, config: Config, stackName: string): S3Backend {
  const backend = new S3Backend(stack, {
    bucket: config.TF_STATE_BUCKET,
    key: stateKey(config, stackName),
    region: config.AWS_REGION,
    encrypt: true,
    dynamodbTable: config.TF_STATE_LOCK_TABLE,
  });
  backend.addOverride('use_lockfile', true);
  return backend;
}
