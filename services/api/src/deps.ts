import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Config } from '@mc-vision/core/config/index';
import type { MonitoringDefinition } from '@mc-vision/core/monitoring/definition';
import type { Providers } from '@mc-vision/core/providers/index';
import type { BatchRecords } from '@mc-vision/core/batch-records';
import type { ResultsStore } from '@mc-vision/core/results-store';
import type { HealthCheck } from './health.ts';
import type { SignIn } from './routes/sign-in.ts';

/**
 * What the routes reach through the AWS SDK and the providers. Built on the first request that needs them,
 * and their code loaded then (services.ts): the Lambda's start loads Express and the app, not the SDK.
 */
export interface ApiServices {
  s3: S3Client;
  sfn: SFNClient;
  /** The monitoring routes read the dashboard's data and the alarms through it. */
  cloudwatch: CloudWatchClient;
  /** core's monitoring definition for this environment: the widgets and the alarms' names. */
  monitoring: MonitoringDefinition;
  results: ResultsStore;
  /** The records of batch items, through the results table's byBatch index. */
  batchRecords: BatchRecords;
  providers: Providers;
  healthChecks: readonly HealthCheck[];
}

/** Everything the app talks to, passed in: the Lambda entry, the laptop server and the tests wire it differently. */
export interface ApiDependencies {
  config: Config;
  /** The services, built once on first use (every call answers the same ones). */
  services: () => Promise<ApiServices>;
  /** The accepted API keys; the cloud reads them from Secrets Manager (cached), the laptop from its key file. */
  apiKeys: () => Promise<readonly string[]>;
  logger: Logger;
  /** EMF metrics per route; absent on a laptop, where nothing collects them. */
  metrics?: Metrics;
  /** A built web UI to serve at `/` (same origin as the API), with SPA fallback. */
  webRoot?: string;
  /** Reported by `/health` and the OpenAPI document. */
  version: string;
  /**
   * Served on a laptop (`startApiServer`, the local cloud): requests must name the loopback address and come
   * from no other web page than the API's own or `CORS_ORIGINS` (core's `foreignRequest`), else 403.
   */
  loopbackOnly?: boolean;
  /** The laptop's one-time sign-in link (`POST /local/sign-in`); absent in the cloud. */
  signIn?: SignIn;
}

/** What a route module is built with: the dependencies, their services built. */
export type RouteDependencies = Omit<ApiDependencies, 'services'> & ApiServices;
