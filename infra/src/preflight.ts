import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { HeadBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import type { Config } from '@mc-vision/core/config/index';
import { deployEnvironments, loadDeployConfig, type DeployEnvironment } from './config';
import { sagemakerServerlessConcurrencyQuota } from './deploy-permissions';
import { imageNames, resourceNames } from './names';

// `pnpm preflight <env>`: before the first apply (and before every apply in the deploy job), what the account
// must have for Terraform to get through: the state backend, the release's images and model package, and
// quotas that a new account may not meet (Lambda concurrency to reserve, SageMaker Serverless concurrency).
// Each finding is one plain line saying what to raise or change; exit 1 when something blocks.

export interface PreflightClients {
  lambda: LambdaClient;
  quotas: ServiceQuotasClient;
  s3: S3Client;
  dynamodb: DynamoDBClient;
  ecr: ECRClient;
}

export interface Finding {
  blocks: boolean;
  line: string;
}

/** Lambda keeps this much of the account's concurrency unreserved (all of it, below 100). */
export const lambdaUnreservedMinimum = 100;
/** The Service Quotas code of Lambda's "Concurrent executions", the quota to raise. */
export const lambdaConcurrencyQuotaCode = 'L-B99A9384';

const ok = (line: string): Finding => ({ blocks: false, line: `ok      ${line}` });
const blocks = (line: string): Finding => ({ blocks: true, line: `BLOCKS  ${line}` });

const errorName = (error: unknown) => (error as { name?: string }).name ?? '';
const httpStatus = (error: unknown) =>
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const failed = (what: string, error: unknown) =>
  blocks(`could not read ${what}: ${errorName(error)} ${(error as Error).message}`.trim());

async function stateBackend(config: Config, clients: PreflightClients): Promise<Finding[]> {
  const bootstrap = 'bootstrap the state backend first (docs/deployment.md, step 2)';
  const bucket = await clients.s3
    .send(new HeadBucketCommand({ Bucket: config.TF_STATE_BUCKET }))
    .then(() => ok(`state bucket ${config.TF_STATE_BUCKET} exists`))
    .catch((error: unknown) =>
      httpStatus(error) === 404
        ? blocks(`state bucket ${config.TF_STATE_BUCKET} does not exist: ${bootstrap}`)
        : failed(`state bucket ${config.TF_STATE_BUCKET}`, error),
    );
  const table = await clients.dynamodb
    .send(new DescribeTableCommand({ TableName: config.TF_STATE_LOCK_TABLE }))
    .then(() => ok(`lock table ${config.TF_STATE_LOCK_TABLE} exists`))
    .catch((error: unknown) =>
      errorName(error) === 'ResourceNotFoundException'
        ? blocks(`lock table ${config.TF_STATE_LOCK_TABLE} does not exist: ${bootstrap}`)
        : failed(`lock table ${config.TF_STATE_LOCK_TABLE}`, error),
    );
  return [bucket, table];
}

async function release(config: Config, clients: PreflightClients): Promise<Finding[]> {
  const names = resourceNames(config);
  const tag = config.IMAGE_TAG;
  const images = imageNames.map((image) => {
    const repository = names.repository(image);
    return clients.ecr
      .send(new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: tag }] }))
      .then(() => ok(`image ${repository}:${tag} is pushed`))
      .catch((error: unknown) => {
        if (errorName(error) === 'RepositoryNotFoundException') {
          return blocks(
            `ECR repository ${repository} does not exist: run infra-apply with registry_only (docs/deployment.md, step 4.1)`,
          );
        }
        if (errorName(error) === 'ImageNotFoundException') {
          return blocks(
            `image ${repository}:${tag} is not pushed: run deploy-images (docs/deployment.md, step 4.2)`,
          );
        }
        return failed(`image ${repository}:${tag}`, error);
      });
  });
  const model = clients.s3
    .send(new HeadObjectCommand({ Bucket: names.modelsBucket, Key: config.MODEL_ARTIFACT_KEY }))
    .then(() => ok(`model package s3://${names.modelsBucket}/${config.MODEL_ARTIFACT_KEY} is uploaded`))
    .catch((error: unknown) =>
      httpStatus(error) === 404
        ? blocks(
            `model package s3://${names.modelsBucket}/${config.MODEL_ARTIFACT_KEY} is missing: run deploy-images (docs/deployment.md, step 4.2)`,
          )
        : failed(`s3://${names.modelsBucket}/${config.MODEL_ARTIFACT_KEY}`, error),
    );
  return Promise.all([...images, model]);
}

/** What this environment's functions hold reserved right now (0 for one that does not exist yet). */
async function reservedNow(clients: PreflightClients, functionName: string): Promise<number> {
  try {
    const answer = await clients.lambda.send(
      new GetFunctionConcurrencyCommand({ FunctionName: functionName }),
    );
    return answer.ReservedConcurrentExecutions ?? 0;
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return 0;
    throw error;
  }
}

async function lambdaConcurrency(config: Config, clients: PreflightClients): Promise<Finding[]> {
  const names = resourceNames(config);
  const file = `infra/env/${config.DEPLOY_ENV}.env`;
  let limit: number;
  let unreserved: number;
  let ours: number;
  try {
    const { AccountLimit } = await clients.lambda.send(new GetAccountSettingsCommand({}));
    limit = AccountLimit?.ConcurrentExecutions ?? 0;
    unreserved = AccountLimit?.UnreservedConcurrentExecutions ?? 0;
    const held = await Promise.all(
      (['api', 'worker'] as const).map((role) => reservedNow(clients, names.functionName(role))),
    );
    ours = held.reduce((sum, n) => sum + n, 0);
  } catch (error) {
    return [failed("the account's Lambda concurrency", error)];
  }
  // What can be reserved: the unreserved pool (plus what this environment already holds, which the apply
  // re-reserves) less what must stay unreserved.
  const reservable = Math.max(0, unreserved + ours - Math.min(lambdaUnreservedMinimum, limit));
  const asked: [string, number][] = [
    ['API_RESERVED_CONCURRENCY', config.API_RESERVED_CONCURRENCY ?? 0],
    ['WORKER_RESERVED_CONCURRENCY', config.WORKER_RESERVED_CONCURRENCY ?? 0],
  ];
  // Provisioned concurrency of an unreserved function is taken from the same reservable pool.
  if (config.API_RESERVED_CONCURRENCY === undefined) {
    asked.push(['API_PROVISIONED_CONCURRENCY', config.API_PROVISIONED_CONCURRENCY]);
  }
  const settings = asked.filter(([, n]) => n > 0);
  const need = settings.reduce((sum, [, n]) => sum + n, 0);
  const findings: Finding[] = [];
  if (
    config.API_RESERVED_CONCURRENCY !== undefined &&
    config.API_PROVISIONED_CONCURRENCY > config.API_RESERVED_CONCURRENCY
  ) {
    findings.push(
      blocks(
        `Lambda: API_PROVISIONED_CONCURRENCY ${config.API_PROVISIONED_CONCURRENCY} exceeds API_RESERVED_CONCURRENCY ${config.API_RESERVED_CONCURRENCY}: lower it in ${file}`,
      ),
    );
  }
  if (need > reservable) {
    const listed = settings.map(([key, n]) => `${key}=${n}`).join(', ');
    findings.push(
      blocks(
        `Lambda: ${config.DEPLOY_ENV} reserves ${need} concurrent executions (${listed}) but the account can reserve ${reservable} in ${config.AWS_REGION} (concurrency quota ${limit}, ${Math.min(lambdaUnreservedMinimum, limit)} of it always unreserved): raise "Concurrent executions" (${lambdaConcurrencyQuotaCode}) to at least ${limit + need - reservable} in Service Quotas, or empty those settings in ${file}`,
      ),
    );
  } else if (need > 0) {
    findings.push(
      ok(`Lambda: reserves ${need} of the ${reservable} the account can reserve (quota ${limit})`),
    );
  } else {
    findings.push(ok(`Lambda: reserves nothing; the functions share the account's pool (quota ${limit})`));
  }
  return findings;
}

/** The applied value of a quota, else AWS's default (an account that never changed it has none applied). */
async function quotaValue(clients: PreflightClients, quota: { ServiceCode: string; QuotaCode: string }) {
  try {
    return (await clients.quotas.send(new GetServiceQuotaCommand(quota))).Quota?.Value;
  } catch (error) {
    if (errorName(error) !== 'NoSuchResourceException') throw error;
    return (await clients.quotas.send(new GetAWSDefaultServiceQuotaCommand(quota))).Quota?.Value;
  }
}

async function sagemakerConcurrency(config: Config, clients: PreflightClients): Promise<Finding[]> {
  // Environments in one account and region share the quota.
  const sharing = deployEnvironments
    .map((env) => (env === config.DEPLOY_ENV ? config : loadDeployConfig(env)))
    .filter((c) => c.AWS_ACCOUNT_ID === config.AWS_ACCOUNT_ID && c.AWS_REGION === config.AWS_REGION);
  const need = sharing.reduce((sum, c) => sum + c.SAGEMAKER_MAX_CONCURRENCY, 0);
  const { QuotaCode } = sagemakerServerlessConcurrencyQuota;
  let quota: number | undefined;
  try {
    quota = await quotaValue(clients, sagemakerServerlessConcurrencyQuota);
  } catch (error) {
    return [failed(`the SageMaker Serverless concurrency quota (${QuotaCode})`, error)];
  }
  if (quota === undefined)
    return [blocks(`SageMaker Serverless: Service Quotas has no value for ${QuotaCode}`)];
  const whose = sharing.map((c) => `${c.DEPLOY_ENV} ${c.SAGEMAKER_MAX_CONCURRENCY}`).join(' + ');
  if (need > quota) {
    return [
      blocks(
        `SageMaker Serverless: the endpoints ask for ${need} concurrent invocations (SAGEMAKER_MAX_CONCURRENCY: ${whose}) but the account's total serverless concurrency in ${config.AWS_REGION} is ${quota}: raise "Maximum total concurrency that can be allocated across all serverless endpoints" (${QuotaCode}) to at least ${need} in Service Quotas, or lower SAGEMAKER_MAX_CONCURRENCY in infra/env/${config.DEPLOY_ENV}.env`,
      ),
    ];
  }
  return [ok(`SageMaker Serverless: ${need} of the account's ${quota} concurrent invocations (${whose})`)];
}

/** Every check, in the order a new account meets them. */
export async function preflight(config: Config, clients: PreflightClients): Promise<Finding[]> {
  const groups = await Promise.all([
    stateBackend(config, clients),
    release(config, clients),
    lambdaConcurrency(config, clients),
    sagemakerConcurrency(config, clients),
  ]);
  return groups.flat();
}

export function awsClients(config: Config): PreflightClients {
  const region = config.AWS_REGION;
  return {
    lambda: new LambdaClient({ region }),
    quotas: new ServiceQuotasClient({ region }),
    s3: new S3Client({ region }),
    dynamodb: new DynamoDBClient({ region }),
    ecr: new ECRClient({ region }),
  };
}

async function main(): Promise<number> {
  const env = process.argv[2] as DeployEnvironment;
  if (!deployEnvironments.includes(env)) {
    console.error(`usage: pnpm preflight <${deployEnvironments.join('|')}>`);
    return 2;
  }
  const config = loadDeployConfig(env);
  const findings = await preflight(config, awsClients(config));
  for (const finding of findings) console.log(finding.line);
  const blocking = findings.filter((f) => f.blocks).length;
  console.log(
    blocking === 0
      ? `preflight ${env}: nothing blocks the apply (account ${config.AWS_ACCOUNT_ID}, ${config.AWS_REGION})`
      : `preflight ${env}: ${blocking} thing(s) above block the apply (account ${config.AWS_ACCOUNT_ID}, ${config.AWS_REGION})`,
  );
  return blocking === 0 ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`preflight: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
