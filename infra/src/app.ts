import type { App } from 'cdktf';
import type { Config } from '@mc-vision/core/config/index';
import { AwsPlatformStack } from './stacks/aws-platform';
import { AzureOpenAiStack } from './stacks/azure-openai';
import { StateBackendStack } from './stacks/state-backend';

export const stackNames = ['state-backend', 'aws-platform', 'azure-openai'] as const;
export type StackName = (typeof stackNames)[number];

/** One environment's three stacks, named `<env>-<stack>`. */
export function addEnvironment(app: App, config: Config) {
  const env = config.DEPLOY_ENV;
  return {
    stateBackend: new StateBackendStack(app, `${env}-state-backend`, config),
    awsPlatform: new AwsPlatformStack(app, `${env}-aws-platform`, config),
    azureOpenAi: new AzureOpenAiStack(app, `${env}-azure-openai`, config),
  };
}
