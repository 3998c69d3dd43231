import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { GetTopicAttributesCommand, type SNSClient } from '@aws-sdk/client-sns';
import { createApp, localApiKey, Unhealthy, wireDependencies, type HealthCheck } from '@mc-vision/api';
import type { Config } from '@mc-vision/core';
import { faultRoute } from '@mc-vision/emulators';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen, stopServer, type Component } from './server.ts';

// The API exactly as `startApiServer` serves it (the same Express app, wiring and key file), plus what only the
// local cloud knows for `/health`: whether the topic and the LLM emulators answer. Its listener opens first,
// so that its address is known to what starts after it (the worker's notifications link to the API), and
// answers 503 until the app is handed to it.

export interface LocalApiOptions {
  config: Config;
  logger: Logger;
  webRoot?: string;
  sns: SNSClient;
  /** The LLM emulators that run locally. */
  emulators: readonly Component[];
  /** This run's token for the emulators' admin routes (`/health` asks their fault route). */
  adminToken: string;
  /** The one-time code of the UI's sign-in link. */
  signInCode: string;
  /** The API's EMF metrics, as in the cloud. */
  metrics?: Metrics;
  /** Wraps the request listener (the local cloud counts what API Gateway and Lambda would). */
  observe?: (listener: RequestListener) => RequestListener;
}

export interface LocalApi extends Component {
  apiKey: string;
  /** The UI's one-time sign-in link: `<url>/#code=<code>`. */
  signInUrl: string;
}

export interface ApiListener {
  url: string;
  port: number;
  /** Serves the API on the listener from now on. */
  serve(options: LocalApiOptions): Promise<LocalApi>;
  /** Stops the listener (for a start-up that failed before `serve`). */
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
function emulatorCheck({ name, url }: Component, adminToken: string): HealthCheck {
  return {
    name,
    required: false,
    check: async (signal) => {
      const response = await fetch(new URL(faultRoute, url), {
        signal,
        headers: { authorization: `Bearer ${adminToken}` },
      });
      await response.body?.cancel();
      if (!response.ok) throw new Unhealthy(`answered ${response.status}`);
    },
  };
}

const starting: RequestListener = (_req, res) => {
  res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
  res.end(JSON.stringify({ error: { code: 'not_ready', message: 'the local cloud is starting' } }));
};

/** Opens the API's port (`host`:`port`, 0 = any free one) before anything else starts. */
export async function listenForApi(host: string, port: number): Promise<ApiListener> {
  const server = createServer(starting);
  await listen(server, port, host);
  const { port: listening } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${listening}`;
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= stopServer(server));

  return {
    url,
    port: listening,
    close,
    async serve(options) {
      const { config } = options;
      const apiKey = await localApiKey(config.DATA_DIR, config.API_KEY);
      const deps = wireDependencies(config, {
        apiKeys: async () => [apiKey],
        logger: options.logger,
        loopbackOnly: true,
        signIn: { code: options.signInCode, apiKey },
        ...(options.metrics ? { metrics: options.metrics } : {}),
        ...(options.webRoot ? { webRoot: options.webRoot } : {}),
      });
      const extraChecks = [
        topicCheck(options.sns, config.NOTIFY_TOPIC_ARN),
        ...options.emulators.map((emulator) => emulatorCheck(emulator, options.adminToken)),
      ];
      let services: ReturnType<typeof deps.services> | undefined;
      const withLocalChecks = () =>
        (services ??= deps.services().then((built) => ({
          ...built,
          healthChecks: [...built.healthChecks, ...extraChecks],
        })));
      server.off('request', starting);
      const app: RequestListener = createApp({ ...deps, services: withLocalChecks });
      server.on('request', options.observe ? options.observe(app) : app);
      return {
        name: 'api',
        description: 'the API and the UI',
        url,
        apiKey,
        signInUrl: `${url}/#code=${options.signInCode}`,
        async close() {
          await close();
          const { s3, sfn, cloudwatch } = await withLocalChecks();
          s3.destroy();
          sfn.destroy();
          cloudwatch.destroy();
        },
      };
    },
  };
}
