import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { GetTopicAttributesCommand, type SNSClient } from '@aws-sdk/client-sns';
import { createApp, localApiKey, Unhealthy, wireDependencies, type HealthCheck } from '@mc-vision/api';
import type { Config } from '@mc-vision/core';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen, stopServer } from './server.ts';

// The API exactly as `startApiServer` serves it (the same Express app, wiring and key file), plus what only the
// local cloud knows for `/health`: whether the topic and the LLM emulators answer.

export interface LocalApiOptions {
  config: Config;
  host: string;
  port: number;
  logger: Logger;
  webRoot?: string;
  sns: SNSClient;
  /** The LLM emulators that run locally, by name. */
  emulators: Record<string, string>;
  /** The API's EMF metrics, as in the cloud. */
  metrics?: Metrics;
  /** Wraps the request listener (the local cloud counts what API Gateway and Lambda would). */
  observe?: (listener: RequestListener) => RequestListener;
}

export interface LocalApi {
  url: string;
  apiKey: string;
  close(): Promise<void>;
}

function topicCheck(sns: SNSClient, topicArn: string): HealthCheck {
  return {
    name: 'notifications',
    required: false,
    check: async (abortSignal) => {
      await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }), { abortSignal });
    },
  };
}

/** An emulator is up when it answers HTTP at all (its fault admin route lists the queued faults). */
function emulatorCheck(name: string, url: string): HealthCheck {
  return {
    name,
    required: false,
    check: async (signal) => {
      const response = await fetch(new URL('/_emulator/faults', url), { signal });
      await response.body?.cancel();
      if (!response.ok) throw new Unhealthy(`answered ${response.status}`);
    },
  };
}

export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const { config } = options;
  const apiKey = await localApiKey(config.DATA_DIR, config.API_KEY);
  const deps = wireDependencies(config, {
    apiKeys: async () => [apiKey],
    logger: options.logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.webRoot ? { webRoot: options.webRoot } : {}),
  });
  const healthChecks = [
    ...deps.healthChecks,
    topicCheck(options.sns, config.NOTIFY_TOPIC_ARN),
    ...Object.entries(options.emulators).map(([name, url]) => emulatorCheck(name, url)),
  ];
  const app: RequestListener = createApp({ ...deps, healthChecks });
  const server = createServer(options.observe ? options.observe(app) : app);
  await listen(server, options.port, options.host);
  const { port } = server.address() as AddressInfo;
  const shownHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return {
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`,
    apiKey,
    async close() {
      await stopServer(server);
      deps.s3.destroy();
      deps.sfn.destroy();
      deps.cloudwatch.destroy();
    },
  };
}
