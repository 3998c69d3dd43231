import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { loadConfig, type Config, type Providers } from '@mc-vision/core';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { localApiKey } from './api-keys.ts';
import { createApp } from './app.ts';
import { wireDependencies } from './wiring.ts';

export interface ApiServerOptions {
  /** Default: `loadConfig()` (process.env). */
  config?: Config;
  /** Default: `config.PORT` (0 picks a free port). */
  port?: number;
  /** Default: the real provider clients built from `config`. */
  providers?: Providers;
  /** A built web UI served at `/`. */
  webRoot?: string;
  logger?: Logger;
  /** EMF metrics; off by default on a laptop, where nothing collects them. */
  metrics?: Metrics;
}

export interface ApiServer {
  url: string;
  /** The key `/v1/*` accepts: `API_KEY`, or the one generated once and kept in `<DATA_DIR>/api-key`. */
  apiKey: string;
  close(): Promise<void>;
}

/** The app on a plain Node HTTP server, on loopback only. */
export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const config = options.config ?? loadConfig();
  const apiKey = await localApiKey(config.DATA_DIR, config.API_KEY);
  const logger = options.logger ?? new Logger({ serviceName: config.SERVICE_NAME });
  const app = createApp(
    wireDependencies(config, {
      apiKeys: async () => [apiKey],
      logger,
      loopbackOnly: true,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.providers ? { providers: options.providers } : {}),
      ...(options.webRoot ? { webRoot: options.webRoot } : {}),
    }),
  );
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? config.PORT, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

// `node src/server.ts`: the API alone, against whatever the configuration points at.
if (import.meta.main) {
  const server = await startApiServer();
  console.log(`MC Vision API on ${server.url}\nAPI key: ${server.apiKey}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
