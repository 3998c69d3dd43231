import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import type { Config } from '@mc-vision/core/config/index';
import { sagemakerServerlessConcurrencyQuota } from '../src/deploy-permissions';
import { imageNames, resourceNames } from '../src/names';
import { preflight, type PreflightClients } from '../src/preflight';
import { startFakeAws, type FakeAccount, type FakeAws } from './aws-loopback';
import { configOf } from './helpers';

// `pnpm preflight <env>` against a stand-in account on 127.0.0.1 that answers in the services' wire
// protocols (aws-loopback.ts), through the real SDK clients the command uses.

const sagemakerQuota = `${sagemakerServerlessConcurrencyQuota.ServiceCode}/${sagemakerServerlessConcurrencyQuota.QuotaCode}`;

/** An account where the first apply of `config` can go through. */
function readyAccount(config: Config): FakeAccount {
  const names = resourceNames(config);
  return {
    accountId: config.AWS_ACCOUNT_ID,
    lambda: { concurrentExecutions: 1000, unreservedConcurrentExecutions: 1000 },
    functions: {},
    quotas: {},
    defaultQuotas: { [sagemakerQuota]: 10 },
    buckets: {
      [config.TF_STATE_BUCKET]: [],
      [names.modelsBucket]: [{ key: config.MODEL_ARTIFACT_KEY, versionId: 'm1', isLatest: true }],
    },
    tables: [config.TF_STATE_LOCK_TABLE],
    repositories: Object.fromEntries(
      imageNames.map((image) => [names.repository(image), [config.IMAGE_TAG]]),
    ),
    secrets: {},
  };
}

let aws: FakeAws | undefined;
afterEach(async () => {
  await aws?.close();
  aws = undefined;
});

async function run(config: Config, account: FakeAccount) {
  aws = await startFakeAws(account);
  const options = { ...aws.clientOptions, region: config.AWS_REGION };
  const clients: PreflightClients = {
    lambda: new LambdaClient(options),
    quotas: new ServiceQuotasClient(options),
    s3: new S3Client({ ...options, forcePathStyle: true }),
    dynamodb: new DynamoDBClient(options),
    ecr: new ECRClient(options),
  };
  const findings = await preflight(config, clients);
  return {
    blocking: findings.filter((f) => f.blocks).map((f) => f.line),
    lines: findings.map((f) => f.line),
  };
}

describe('pnpm preflight', () => {
  it('finds nothing blocking in an account that has what the first apply needs', async () => {
    const config = configOf('dev');
    const { blocking, lines } = await run(config, readyAccount(config));
    expect(blocking).toEqual([]);
    expect(lines).toContain(`ok      state bucket ${config.TF_STATE_BUCKET} exists`);
    expect(lines).toContain(
      "ok      Lambda: reserves nothing; the functions share the account's pool (quota 1000)",
    );
    expect(lines).toContain(
      "ok      SageMaker Serverless: 2 of the account's 10 concurrent invocations (dev 2)",
    );
    // It asked the services, in their protocols.
    expect(aws!.calls).toEqual(
      expect.arrayContaining([
        'lambda.GetAccountSettings',
        'lambda.GetFunctionConcurrency',
        'ServiceQuotasV20190624.GetServiceQuota',
        'ServiceQuotasV20190624.GetAWSDefaultServiceQuota',
        'DynamoDB_20120810.DescribeTable',
        'AmazonEC2ContainerRegistry_V20150921.DescribeImages',
        's3.HeadBucket',
        's3.HeadObject',
      ]),
    );
  });

  it('says what to raise when the Lambda quota is too low for the concurrency a configuration reserves', async () => {
    const config: Config = {
      ...configOf('dev'),
      API_RESERVED_CONCURRENCY: 50,
      WORKER_RESERVED_CONCURRENCY: 40,
    };
    const account = readyAccount(config);
    // A new account: 10 concurrent executions, all of them unreserved.
    account.lambda = { concurrentExecutions: 10, unreservedConcurrentExecutions: 10 };
    const { blocking } = await run(config, account);
    expect(blocking).toEqual([
      'BLOCKS  Lambda: dev reserves 90 concurrent executions (API_RESERVED_CONCURRENCY=50, WORKER_RESERVED_CONCURRENCY=40) but the account can reserve 0 in us-east-1 (concurrency quota 10, 10 of it always unreserved): raise "Concurrent executions" (L-B99A9384) to at least 100 in Service Quotas, or empty those settings in infra/env/dev.env',
    ]);
  });

  it('asks for 100 above what is reserved: 190 for 50 + 40 on an otherwise empty account', async () => {
    const config: Config = {
      ...configOf('prod'),
      API_RESERVED_CONCURRENCY: 50,
      WORKER_RESERVED_CONCURRENCY: 40,
    };
    const account = readyAccount(config);
    account.lambda = { concurrentExecutions: 150, unreservedConcurrentExecutions: 150 };
    const { blocking } = await run(config, account);
    expect(blocking).toHaveLength(1);
    expect(blocking[0]).toContain('can reserve 50 in us-east-1');
    expect(blocking[0]).toContain('to at least 190 in Service Quotas');
    // Enough quota: not blocking, and what this environment already holds counts as its own.
    account.lambda = { concurrentExecutions: 190, unreservedConcurrentExecutions: 100 };
    account.functions = {
      [resourceNames(config).functionName('api')]: 50,
      [resourceNames(config).functionName('worker')]: 40,
    };
    await aws!.close();
    expect((await run(config, account)).blocking).toEqual([]);
  });

  it('counts provisioned concurrency of an unreserved API against the same pool', async () => {
    const config: Config = { ...configOf('dev'), API_PROVISIONED_CONCURRENCY: 2 };
    const account = readyAccount(config);
    account.lambda = { concurrentExecutions: 100, unreservedConcurrentExecutions: 100 };
    const { blocking } = await run(config, account);
    expect(blocking).toEqual([
      expect.stringContaining('reserves 2 concurrent executions (API_PROVISIONED_CONCURRENCY=2)'),
    ]);
  });

  it('says what to raise when the SageMaker Serverless quota is below max_concurrency', async () => {
    const config: Config = { ...configOf('prod'), SAGEMAKER_MAX_CONCURRENCY: 20 };
    const account = readyAccount(config);
    account.quotas = { [sagemakerQuota]: 10 };
    const { blocking } = await run(config, account);
    expect(blocking).toEqual([
      'BLOCKS  SageMaker Serverless: the endpoints ask for 20 concurrent invocations (SAGEMAKER_MAX_CONCURRENCY: prod 20) but the account\'s total serverless concurrency in us-east-1 is 10: raise "Maximum total concurrency that can be allocated across all serverless endpoints" (L-96300102) to at least 20 in Service Quotas, or lower SAGEMAKER_MAX_CONCURRENCY in infra/env/prod.env',
    ]);
    // The applied value was read; no need for the default.
    expect(aws!.calls).not.toContain('ServiceQuotasV20190624.GetAWSDefaultServiceQuota');
  });

  it('adds up the endpoints of environments that share the account and region', async () => {
    // dev moved into prod's account (as infra/env/prod.env names it): both endpoints draw on one quota.
    const prod = configOf('prod');
    const dev: Config = { ...configOf('dev'), AWS_ACCOUNT_ID: prod.AWS_ACCOUNT_ID };
    const account = readyAccount(dev);
    account.defaultQuotas = { [sagemakerQuota]: 9 };
    const { blocking } = await run(dev, account);
    expect(blocking).toEqual([
      expect.stringContaining(
        `ask for ${dev.SAGEMAKER_MAX_CONCURRENCY + prod.SAGEMAKER_MAX_CONCURRENCY} concurrent invocations (SAGEMAKER_MAX_CONCURRENCY: dev ${dev.SAGEMAKER_MAX_CONCURRENCY} + prod ${prod.SAGEMAKER_MAX_CONCURRENCY})`,
      ),
    ]);
  });

  it('sends a new account to the bootstrap, the registry and the first release, in that order', async () => {
    const config = configOf('dev');
    const names = resourceNames(config);
    const account = readyAccount(config);
    account.buckets = {};
    account.tables = [];
    account.repositories = { [names.repository('api')]: [] };
    const { blocking } = await run(config, account);
    expect(blocking).toEqual([
      `BLOCKS  state bucket ${config.TF_STATE_BUCKET} does not exist: bootstrap the state backend first (docs/deployment.md, step 2)`,
      `BLOCKS  lock table ${config.TF_STATE_LOCK_TABLE} does not exist: bootstrap the state backend first (docs/deployment.md, step 2)`,
      `BLOCKS  image ${names.repository('api')}:${config.IMAGE_TAG} is not pushed: run deploy-images (docs/deployment.md, step 4.2)`,
      `BLOCKS  ECR repository ${names.repository('worker')} does not exist: run infra-apply with registry_only (docs/deployment.md, step 4.1)`,
      `BLOCKS  ECR repository ${names.repository('model-server')} does not exist: run infra-apply with registry_only (docs/deployment.md, step 4.1)`,
      `BLOCKS  model package s3://${names.modelsBucket}/${config.MODEL_ARTIFACT_KEY} is missing: run deploy-images (docs/deployment.md, step 4.2)`,
    ]);
  });
});

describe('the pnpm preflight command', () => {
  it('reads the account through the SDK’s own endpoint settings, prints its lines and exits 1 when blocked', async () => {
    const config = configOf('dev');
    const account = readyAccount(config);
    account.tables = [];
    aws = await startFakeAws(account);
    // What `pnpm preflight dev` runs (the root package.json), with the SDK sent to the loopback account by its
    // standard AWS_ENDPOINT_URL setting and given throwaway credentials.
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/preflight.ts', 'dev'], {
        cwd: join(__dirname, '..'),
        env: {
          ...process.env,
          AWS_ENDPOINT_URL: aws!.endpoint,
          AWS_ACCESS_KEY_ID: 'AKIDLOOPBACK',
          AWS_SECRET_ACCESS_KEY: 'loopback-secret',
          AWS_MAX_ATTEMPTS: '1',
          IMAGE_TAG: config.IMAGE_TAG,
        },
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('close', (code) => resolve({ code, output }));
    });
    expect(code).toBe(1);
    expect(output.trim().split('\n')).toEqual([
      `ok      state bucket ${config.TF_STATE_BUCKET} exists`,
      `BLOCKS  lock table ${config.TF_STATE_LOCK_TABLE} does not exist: bootstrap the state backend first (docs/deployment.md, step 2)`,
      ...imageNames.map(
        (image) => `ok      image ${resourceNames(config).repository(image)}:${config.IMAGE_TAG} is pushed`,
      ),
      `ok      model package s3://${resourceNames(config).modelsBucket}/${config.MODEL_ARTIFACT_KEY} is uploaded`,
      "ok      Lambda: reserves nothing; the functions share the account's pool (quota 1000)",
      "ok      SageMaker Serverless: 2 of the account's 10 concurrent invocations (dev 2)",
      `preflight dev: 1 thing(s) above block the apply (account ${config.AWS_ACCOUNT_ID}, ${config.AWS_REGION})`,
    ]);
  }, 30_000);
});
