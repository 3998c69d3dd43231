import type { Config } from '@mc-vision/core/config/index';
import { platformNames, type FunctionRole } from '@mc-vision/core/names';

// Every name the stacks give a resource, derived from the configuration alone. Names (and the ARNs built
// from them) are known at synth time, so the Lambda environment can be validated before anything exists.
// The names monitoring watches (functions, alarms, dashboard, alarms topic) come from core's `platformNames`,
// which the local cloud and the API use too.

export { functionRoles, type FunctionRole } from '@mc-vision/core/names';

/** ECR repositories: the API image, the worker image (worker and ingest functions), the model server. */
export type ImageName = 'api' | 'worker' | 'model-server';
export const imageNames: readonly ImageName[] = ['api', 'worker', 'model-server'];

/** The image each function runs. */
export const functionImage: Record<FunctionRole, ImageName> = {
  api: 'api',
  worker: 'worker',
  ingest: 'worker',
};

/** The GitHub workflows' roles: `plan` for pull requests and main, `deploy` for the approved environment. */
export type GithubRolePurpose = 'plan' | 'deploy';

export function resourceNames(config: Config) {
  const platform = platformNames(config);
  const { base, region, account, functionName } = platform;
  // Pipeline results go to this topic; alarms to the platform's alarms topic: no text a model wrote shares a
  // topic with alarms.
  const topic = `${base}-notifications`;
  const stateMachine = `${base}-pipeline`;
  const secretPrefix = `${config.NAME_PREFIX}/${config.DEPLOY_ENV}/`;
  const workloadBoundary = `${config.NAME_PREFIX}-workload-boundary-${config.DEPLOY_ENV}`;
  const githubRole = (purpose: GithubRolePurpose) =>
    `${config.NAME_PREFIX}-github-${config.DEPLOY_ENV}-${purpose}`;
  return {
    ...platform,
    project: config.NAME_PREFIX,
    env: config.DEPLOY_ENV,
    // Bucket names are global: the account id keeps them unique.
    imagesBucket: `${base}-images-${account}`,
    modelsBucket: `${base}-models-${account}`,
    resultsTable: `${base}-results`,
    topic,
    topicArn: `arn:aws:sns:${region}:${account}:${topic}`,
    stateMachine,
    stateMachineArn: `arn:aws:states:${region}:${account}:stateMachine:${stateMachine}`,
    functionLogGroup: (role: FunctionRole) => `/aws/lambda/${functionName(role)}`,
    repository: (image: ImageName) => `${base}/${image}`,
    httpApi: `${base}-http-api`,
    httpApiLogGroup: `/aws/apigateway/${base}-http-api`,
    pipelineLogGroup: `/aws/vendedlogs/states/${stateMachine}`,
    sagemakerEndpoint: `${base}-classifier`,
    classifierLogGroup: `/aws/sagemaker/Endpoints/${base}-classifier`,
    /** Every log group above starts with one of these: what the deploy role and the boundary may touch. */
    logGroupPrefixes: [
      `/aws/lambda/${base}-`,
      `/aws/apigateway/${base}-`,
      `/aws/vendedlogs/states/${base}-`,
      `/aws/sagemaker/Endpoints/${base}-`,
    ],
    guardrail: `${base}-guardrail`,
    secretPrefix,
    apiKeysSecret: `${secretPrefix}api-keys`,
    azureKeySecret: `${secretPrefix}azure-openai-key`,
    role: (purpose: string) => `${base}-${purpose}`,
    workloadBoundary,
    workloadBoundaryArn: `arn:aws:iam::${account}:policy/${workloadBoundary}`,
    // The GitHub roles sit outside the `${base}-*` names the deploy role manages, so it cannot edit itself.
    githubRole,
    githubRoleArn: (purpose: GithubRolePurpose) => `arn:aws:iam::${account}:role/${githubRole(purpose)}`,
    /** The managed policy both GitHub roles read the platform with. */
    githubReadPolicy: `${config.NAME_PREFIX}-github-${config.DEPLOY_ENV}-platform-read`,
  };
}

export type ResourceNames = ReturnType<typeof resourceNames>;

/** The Azure OpenAI endpoint follows from the account's custom subdomain. */
export function azureOpenAiEndpoint(config: Config): string {
  return `https://${config.AZURE_OPENAI_ACCOUNT}.openai.azure.com/`;
}

/** The `images/` prefix uploads land under (the core's `imageKeySchema`). */
export const imagesPrefix = 'images/';

/** Where each stack keeps its state in the state bucket. */
export function stateKey(config: Pick<Config, 'DEPLOY_ENV'>, stack: string): string {
  return `${config.DEPLOY_ENV}/${stack}.tfstate`;
}

/** The states that have held the Azure key: the Azure stack's (always), the platform's (before it left Terraform). */
export function statesThatHeldTheAzureKey(config: Pick<Config, 'DEPLOY_ENV'>): string[] {
  return [stateKey(config, 'azure-openai'), stateKey(config, 'aws-platform')];
}
