import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { configure as serverlessExpress } from '@codegenie/serverless-express';
import { cloudRequirements, ConfigError, loadConfig, type Config } from '@mc-vision/core/config/index';
import { customMetrics } from '@mc-vision/core/monitoring/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Request, Response } from 'express';
import { secretApiKeys } from './api-keys.ts';
import { createApp } from './app.ts';
import type { ApiDependencies } from './deps.ts';
import { wireDependencies } from './wiring.ts';

/** The CloudWatch namespace of the API's EMF metrics (dimensions: `service`, `route`). */
export const metricsNamespace = customMetrics.namespace;

export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The app behind API Gateway HTTP API (payload 2.0) and Function URL events, which share one format. Binary
 * request bodies arrive base64-encoded and reach the routes as bytes; the API answers JSON only.
 */
export function createLambdaHandler(deps: ApiDependencies): ApiHandler {
  const app = createApp(deps);
  const proxy = serverlessExpress({
    app,
    // serverless-express marks the request stream finished as soon as `app.handle` returns, so a body parsed
    // after an asynchronous middleware (the API key check) would be skipped (CodeGenieApp/serverless-express
    // #693). Handing it the request only returns once the response is finished.
    framework: {
      sendRequest: ({ request, response }: { request: Request; response: Response }) =>
        new Promise<void>((resolve) => {
          response.once('finish', resolve);
          response.once('close', resolve);
          app(request, response);
        }),
    },
    respondWithErrors: false,
    // Its debug lines carry whole events (headers, API keys included): never let them through.
    log: {
      info: () => {},
      debug: () => {},
      verbose: () => {},
      warn: (message: string) => deps.logger.warn(message),
      error: (message: string, ...details: object[]) =>
        deps.logger.error(message, { details: String(details[0]) }),
    },
  });
  return async (event, context) => {
    deps.logger.addContext(context);
    return (await proxy(event, context, () => {})) as APIGatewayProxyStructuredResultV2;
  };
}

/** API keys from the `API_KEYS_SECRET_ARN` secret (or `API_KEY`, for a function run outside AWS). */
function apiKeysFrom(config: Config, readSecret: (id: string) => Promise<string>) {
  if (config.API_KEYS_SECRET_ARN) return secretApiKeys(readSecret, config.API_KEYS_SECRET_ARN);
  const key = config.API_KEY;
  if (key) return async () => [key];
  throw new ConfigError(['API_KEYS_SECRET_ARN: required (the secret holding the API keys)']);
}

/** Secrets Manager, its client loaded on the first read (secrets.ts); '' for a secret without a string value. */
function secretReader(config: Config): (secretId: string) => Promise<string> {
  let reader: Promise<(secretId: string) => Promise<string>> | undefined;
  return async (secretId) => {
    reader ??= import('./secrets.ts').then(({ secretsManagerReader }) => secretsManagerReader(config));
    return (await reader)(secretId);
  };
}

function createFromEnvironment(): ApiHandler {
  // In the cloud every setting the API needs must be given: none falls back to a laptop default.
  const config = loadConfig(process.env, { requiredInCloud: cloudRequirements.api });
  const readSecret = secretReader(config);
  const azureKeyArn = config.AZURE_OPENAI_KEY_SECRET_ARN;
  return createLambdaHandler(
    wireDependencies(config, {
      apiKeys: apiKeysFrom(config, readSecret),
      logger: new Logger({ serviceName: config.SERVICE_NAME }),
      metrics: new Metrics({ namespace: metricsNamespace, serviceName: config.SERVICE_NAME }),
      // A secret without a string value reads as no key: the Azure provider fails as `ProviderMisconfigured`
      // (a 502 naming the provider, not a retryable outage).
      ...(azureKeyArn ? { azureApiKey: () => readSecret(azureKeyArn) } : {}),
      ...(config.WEB_ROOT ? { webRoot: config.WEB_ROOT } : {}),
    }),
  );
}

let configured: ApiHandler | undefined;

/** The Lambda entry: configuration is read and clients are built once per execution environment. */
export const handler: ApiHandler = async (event, context) => {
  configured ??= createFromEnvironment();
  return configured(event, context);
};
