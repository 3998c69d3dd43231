import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Config } from '@mc-vision/core/config/index';
import type { Providers } from '@mc-vision/core/providers/index';
import packageJson from '../package.json' with { type: 'json' };
import type { ApiDependencies, ApiServices } from './deps.ts';
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

/**
 * The app's dependencies from configuration: core's SDK clients (emulators when endpoints are set), built
 * with their code on the first request that needs them.
 */
export function wireDependencies(config: Config, options: WiringOptions): ApiDependencies {
  let services: Promise<ApiServices> | undefined;
  return {
    config,
    services: () =>
      (services ??= import('./services.ts').then(({ buildServices }) => buildServices(config, options))),
    apiKeys: options.apiKeys,
    logger: options.logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.webRoot ? { webRoot: options.webRoot } : {}),
    ...(options.loopbackOnly ? { loopbackOnly: true } : {}),
    ...(options.signIn ? { signIn: options.signIn } : {}),
    version: packageJson.version,
  };
}
