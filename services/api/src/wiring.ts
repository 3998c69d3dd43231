import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import {
  buildMonitoringDefinition,
  createCloudWatchClient,
  createDynamoDbClient,
  createProviders,
  createS3Client,
  createSfnClient,
  monitoredResources,
  ResultsStore,
  type Config,
  type Providers,
} from '@mc-vision/core';
import packageJson from '../package.json' with { type: 'json' };
import type { ApiDependencies } from './deps.ts';
import { createHealthChecks } from './health.ts';
import type { SignIn } from './routes/sign-in.ts';

export interface WiringOptions {
  apiKeys: () => Promise<readonly string[]>;
  logger: Logger;
  metrics?: Metrics;
  /** Default: the real provider clients built from `config`. */
  providers?: Providers;
  /** Reads the Azure OpenAI key when the default providers are built (cloud: from Secrets Manager). */
  azureApiKey?: () => Promise<string>;
  webRoot?: string;
  /** A laptop server: refuse foreign `Host` and `Origin` headers (see `ApiDependencies.loopbackOnly`). */
  loopbackOnly?: boolean;
  /** The laptop's one-time sign-in link (see `ApiDependencies.signIn`). */
  signIn?: SignIn;
}

/** The app's dependencies from configuration: core's SDK clients (emulators when endpoints are set). */
export function wireDependencies(config: Config, options: WiringOptions): ApiDependencies {
  const s3 = createS3Client(config);
  const dynamodb = createDynamoDbClient(config);
  const sfn = createSfnClient(config);
  return {
    config,
    s3,
    sfn,
    cloudwatch: createCloudWatchClient(config),
    monitoring: buildMonitoringDefinition(monitoredResources(config), config),
    results: new ResultsStore(dynamodb, config.RESULTS_TABLE),
    providers:
      options.providers ??
      createProviders(config, options.azureApiKey ? { azureApiKey: options.azureApiKey } : {}),
    apiKeys: options.apiKeys,
    logger: options.logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    healthChecks: createHealthChecks(config, { s3, dynamodb, sfn }),
    ...(options.webRoot ? { webRoot: options.webRoot } : {}),
    ...(options.loopbackOnly ? { loopbackOnly: true } : {}),
    ...(options.signIn ? { signIn: options.signIn } : {}),
    version: packageJson.version,
  };
}
