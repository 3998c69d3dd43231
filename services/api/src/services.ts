// The API's services (deps.ts), built from configuration with core's SDK client factories. wiring.ts imports
// this module on the first request that needs it, so the SDK clients load then, not at the Lambda's start.
import {
  BatchRecords,
  buildMonitoringDefinition,
  createCloudWatchClient,
  createDynamoDbClient,
  createProviders,
  createS3Client,
  createSfnClient,
  monitoredResources,
  ResultsStore,
  type Config,
} from '@mc-vision/core';
import type { ApiServices } from './deps.ts';
import { createHealthChecks } from './health-checks.ts';
import type { WiringOptions } from './wiring.ts';

export function buildServices(config: Config, options: WiringOptions): ApiServices {
  const s3 = createS3Client(config);
  const dynamodb = createDynamoDbClient(config);
  const sfn = createSfnClient(config);
  return {
    s3,
    sfn,
    cloudwatch: createCloudWatchClient(config),
    monitoring: buildMonitoringDefinition(monitoredResources(config), config),
    results: new ResultsStore(dynamodb, config.RESULTS_TABLE),
    batchRecords: new BatchRecords(dynamodb, config.RESULTS_TABLE),
    providers:
      options.providers ??
      createProviders(config, options.azureApiKey ? { azureApiKey: options.azureApiKey } : {}),
    healthChecks: createHealthChecks(config, { s3, dynamodb, sfn }),
  };
}
