import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { loadConfig, type Config } from '@mc-vision/core';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { Express, Router } from 'express';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, matchesApiKey, wireDependencies } from '../src/index.ts';
import { v1Routes } from '../src/routes/index.ts';
import { startFailingAwsService } from './support/aws-errors.ts';
import { apiClient, expectError, serve, type ApiClient } from './support/http.ts';
import { pelican } from './support/images.ts';
import { startLocalAws, type LocalAws } from './support/local-aws.ts';

// What every route shares: authentication, CORS, the error contract, request ids, logs, metrics, health and
// the OpenAPI document. The app runs on dynalite and s3rver; providers and Step Functions are not needed.

const apiKey = 'http-test-key-0123456789';
const allowedOrigin = 'http://ui.example.test';

let aws: LocalAws;
let config: Config;
let closedPort: number;
const servers: { close(): Promise<void> }[] = [];

/** A port nothing listens on: a dependency that is down. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

interface AppOptions {
  config?: Config;
  apiKeys?: () => Promise<readonly string[]>;
  logger?: Logger;
  metrics?: Metrics;
}

function appFor(options: AppOptions = {}): Express {
  return createApp(
    wireDependencies(options.config ?? config, {
      apiKeys: options.apiKeys ?? (async () => [apiKey]),
      logger: options.logger ?? new Logger({ logLevel: 'SILENT' }),
      ...(options.metrics ? { metrics: options.metrics } : {}),
    }),
  );
}

async function start(app: Express, key = apiKey): Promise<ApiClient> {
  const server = await serve(app);
  servers.push(server);
  return apiClient(server.url, key);
}

let api: ApiClient;
beforeAll(async () => {
  aws = await startLocalAws();
  closedPort = await freePort();
  config = loadConfig({
    ...aws.env,
    SFN_ENDPOINT: `http://127.0.0.1:${closedPort}`,
    SAGEMAKER_RUNTIME_ENDPOINT: `http://127.0.0.1:${closedPort}`,
    CORS_ORIGINS: allowedOrigin,
    DATA_DIR: aws.dataDir,
  });
  api = await start(appFor());
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await aws?.close();
});

/** Lines the Powertools logger and metrics write (stdout, and stderr for errors) while `run` runs. */
async function captureOutput(run: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    }),
  );
  try {
    await run();
    await new Promise((resolve) => setTimeout(resolve, 20)); // the request log is written on 'finish'
  } finally {
    spies.forEach((spy) => spy.mockRestore());
  }
  return lines;
}

describe('authentication', () => {
  it('requires x-api-key on /v1 routes (401 without, 401 with a wrong one)', async () => {
    expect(expectError(await api.get('/v1/results', { apiKey: null }), 401, 'unauthorized')).toBe(
      'missing x-api-key header',
    );
    expect(
      expectError(await api.get('/v1/results', { apiKey: 'wrong-key-0123456789' }), 401, 'unauthorized'),
    ).toBe('invalid API key');
    // Same prefix, other length; and the right key with a character missing.
    expectError(await api.get('/v1/results', { apiKey: `${apiKey}x` }), 401, 'unauthorized');
    expectError(await api.get('/v1/results', { apiKey: apiKey.slice(0, -1) }), 401, 'unauthorized');
    expect((await api.get('/v1/results')).status).toBe(200);
  });

  it('hides which /v1 routes exist from callers without a key', async () => {
    expectError(await api.get('/v1/nothing-here', { apiKey: null }), 401, 'unauthorized');
    expectError(await api.get('/v1/nothing-here'), 404, 'not_found');
  });

  it('needs no key for /health and /openapi.json', async () => {
    expect((await api.get('/openapi.json', { apiKey: null })).status).toBe(200);
    expect([200, 503]).toContain((await api.get('/health', { apiKey: null })).status);
  });

  it('accepts every configured key and reads them per request (rotation needs no restart)', async () => {
    let keys = ['first-key-0123456789', 'second-key-0123456789'];
    const rotating = await start(appFor({ apiKeys: async () => keys }));
    for (const key of keys) expect((await rotating.get('/v1/results', { apiKey: key })).status).toBe(200);
    keys = ['second-key-0123456789'];
    expectError(await rotating.get('/v1/results', { apiKey: 'first-key-0123456789' }), 401, 'unauthorized');
  });

  it('compares fixed-length digests: keys of any length are compared, never thrown on', () => {
    const keys = ['a'.repeat(16), 'b'.repeat(64)];
    expect(matchesApiKey('a'.repeat(16), keys)).toBe(true);
    expect(matchesApiKey('b'.repeat(64), keys)).toBe(true);
    expect(matchesApiKey('a'.repeat(15), keys)).toBe(false);
    expect(matchesApiKey('a'.repeat(17), keys)).toBe(false);
    expect(matchesApiKey('', keys)).toBe(false);
    expect(matchesApiKey('a'.repeat(16), [])).toBe(false);
  });
});

describe('CORS', () => {
  const preflight = (origin: string) =>
    fetch(`${api.url}/v1/analyses`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-api-key',
      },
    });

  it('answers a preflight from a configured origin for x-api-key and content-type, without a key', async () => {
    const response = await preflight(allowedOrigin);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(allowedOrigin);
    expect(response.headers.get('access-control-allow-headers')?.split(',')).toEqual(
      expect.arrayContaining(['content-type', 'x-api-key']),
    );
    expect(response.headers.get('access-control-allow-methods')).toMatch(/POST/);
  });

  it('grants nothing to other origins', async () => {
    const response = await preflight('http://evil.example.test');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const get = await api.get('/v1/results', { headers: { origin: 'http://evil.example.test' } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets the configured origin read the request id', async () => {
    const response = await api.get('/v1/results', { headers: { origin: allowedOrigin } });
    expect(response.headers.get('access-control-allow-origin')).toBe(allowedOrigin);
    expect(response.headers.get('access-control-expose-headers')).toMatch(/x-request-id/);
  });
});

describe('errors and request ids', () => {
  it('answers unknown routes and methods with JSON 404, never HTML', async () => {
    expect(expectError(await api.get('/nowhere'), 404, 'not_found')).toBe('no route for GET /nowhere');
    expectError(await api.get('/v1/images'), 404, 'not_found');
    expectError(await api.request('DELETE', '/v1/results/abc'), 404, 'not_found');
  });

  it('echoes a well-formed x-request-id and replaces anything else', async () => {
    const kept = await api.get('/v1/results/missing-one', { headers: { 'x-request-id': 'trace-42.a_b:c' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-42.a_b:c');
    expect(kept.body.error.requestId).toBe('trace-42.a_b:c');
    for (const offered of ['has spaces in it', 'x'.repeat(129), '<script>']) {
      const replaced = await api.get('/health', { headers: { 'x-request-id': offered } });
      expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('answers an unexpected failure with a generic 500 and logs it with its stack', async () => {
    const failing = await start(
      appFor({
        apiKeys: async () => {
          throw new TypeError('secret detail from deep inside');
        },
        logger: new Logger({ serviceName: 'api-test' }),
      }),
    );
    let message = '';
    const lines = await captureOutput(async () => {
      message = expectError(await failing.get('/v1/results'), 500, 'internal');
    });
    expect(message).toBe('internal error');
    const logged = lines
      .map((line) => JSON.parse(line))
      .find((entry) => entry.message === 'unexpected error');
    expect(logged.error.stack).toMatch(/secret detail from deep inside/);
  });

  it('answers 503 when DynamoDB cannot be reached', async () => {
    const unreachable = await start(
      appFor({ config: loadConfig({ ...aws.env, DYNAMODB_ENDPOINT: `http://127.0.0.1:${closedPort}` }) }),
    );
    const response = await unreachable.get('/v1/results');
    expect(expectError(response, 503, 'not_ready')).toMatch(/not reachable/);
    expect(response.headers.get('retry-after')).toBe('5');
  });
});

describe('throttling by DynamoDB and Step Functions', () => {
  // Each service answers with its own throttling error on the wire; the real SDK client retries it and then
  // gives up. The caller should wait and retry (429 + Retry-After), not think the API is broken (5xx).
  const cases = [
    { service: 'DYNAMODB', error: 'ProvisionedThroughputExceededException', route: 'GET /v1/results' },
    { service: 'DYNAMODB', error: 'ThrottlingException', route: 'GET /v1/results/some-request' },
    { service: 'DYNAMODB', error: 'RequestLimitExceeded', route: 'GET /v1/results' },
    { service: 'SFN', error: 'ExecutionLimitExceeded', route: 'POST /v1/pipelines' },
    { service: 'SFN', error: 'ThrottlingException', route: 'GET /v1/pipelines/some-request' },
  ] as const;

  it.each(cases)(
    'answers $service $error on $route with 429 rate_limited and Retry-After',
    async (c) => {
      const failing = await startFailingAwsService(c.error);
      servers.push(failing);
      const throttledApi = await start(
        appFor({
          config: loadConfig({ ...aws.env, DATA_DIR: aws.dataDir, [`${c.service}_ENDPOINT`]: failing.url }),
        }),
      );
      const [method, path] = c.route.split(' ') as [string, string];
      let body: unknown;
      if (method === 'POST') {
        const image = await throttledApi.post('/v1/images', pelican, {
          headers: { 'content-type': 'image/jpeg' },
        });
        expect(image.status).toBe(201);
        body = { key: image.body.key };
      }
      const response = await throttledApi.request(method, path, body === undefined ? {} : { body });
      expect(expectError(response, 429, 'rate_limited')).toBe(
        'too many requests right now; try again shortly',
      );
      expect(response.headers.get('retry-after')).toBe('2');
      expect(failing.requests.length).toBeGreaterThan(0);
    },
    15_000,
  );

  it("passes on the service's own Retry-After", async () => {
    const failing = await startFailingAwsService('ThrottlingException', { retryAfterSeconds: 1 });
    servers.push(failing);
    const throttledApi = await start(
      appFor({ config: loadConfig({ ...aws.env, DATA_DIR: aws.dataDir, DYNAMODB_ENDPOINT: failing.url }) }),
    );
    const response = await throttledApi.get('/v1/results');
    expectError(response, 429, 'rate_limited');
    expect(response.headers.get('retry-after')).toBe('1');
  });

  it('still answers 503 when the service fails on its side', async () => {
    const failing = await startFailingAwsService('InternalServerError', { status: 500 });
    servers.push(failing);
    const broken = await start(
      appFor({ config: loadConfig({ ...aws.env, DATA_DIR: aws.dataDir, DYNAMODB_ENDPOINT: failing.url }) }),
    );
    expectError(await broken.get('/v1/results'), 503, 'not_ready');
  });
});

describe('GET /health', () => {
  it('reports each component and answers 503 when a required one is down', async () => {
    const response = await api.get('/health', { apiKey: null });
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({
      status: 'degraded',
      mode: 'local',
      version: '0.1.0',
      components: {
        imagesBucket: { status: 'up' },
        resultsTable: { status: 'up' },
        stateMachine: { status: 'down', detail: 'ECONNREFUSED' },
        classifier: { status: 'down', detail: 'ECONNREFUSED' },
      },
    });
  });

  it('stays up (200, degraded) when only the classifier is down', async () => {
    const { runHealthChecks } = await import('../src/health.ts');
    const result = await runHealthChecks(
      [
        { name: 'store', required: true, check: async () => {} },
        { name: 'classifier', required: false, check: async () => Promise.reject(new Error('down')) },
        {
          name: 'slow',
          required: false,
          check: (signal) =>
            new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
        },
      ],
      50,
    );
    expect(result.ready).toBe(true);
    expect(result.components).toEqual({
      store: { status: 'up' },
      classifier: { status: 'down', detail: 'Error' },
      slow: { status: 'down', detail: 'no answer within 50 ms' },
    });
  });
});

describe('GET /openapi.json', () => {
  /** Every `METHOD /path` an Express app or router routes, in OpenAPI's `{param}` form. */
  function routesOf(app: Express | Router): string[] {
    type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
    const found: string[] = [];
    const walk = (stack: Layer[]) => {
      for (const layer of stack) {
        if (layer.route) {
          for (const method of Object.keys(layer.route.methods)) {
            found.push(`${method.toUpperCase()} ${layer.route.path.replace(/:(\w+)/g, '{$1}')}`);
          }
        } else if (layer.handle?.stack) {
          walk(layer.handle.stack);
        }
      }
    };
    const router = 'router' in app ? (app as unknown as { router: { stack: Layer[] } }).router : app;
    walk((router as unknown as { stack: Layer[] }).stack);
    return found.sort();
  }

  it('is a valid OpenAPI 3.1 document', async () => {
    const response = await api.get('/openapi.json', { apiKey: null });
    const validator = new Validator();
    const result = await validator.validate(response.body);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('lists exactly the routes the app serves, /v1 ones behind the API key', async () => {
    const document = (await api.get('/openapi.json', { apiKey: null })).body;
    const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      )
      .sort();
    // The app's own routes, and the /v1 ones it loads on the first /v1 request.
    const deps = wireDependencies(config, {
      apiKeys: async () => [apiKey],
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    const served = [
      ...routesOf(createApp(deps)),
      ...routesOf(v1Routes({ ...deps, ...(await deps.services()) })),
    ];
    expect(served.sort()).toEqual(documented);
    expect(documented).toHaveLength(19);

    expect(document.components.securitySchemes.apiKey).toEqual({
      type: 'apiKey',
      in: 'header',
      name: 'x-api-key',
    });
    type Operation = {
      security?: unknown;
      responses: Record<string, { content: Record<string, { schema: unknown }> }>;
    };
    for (const [path, operations] of Object.entries(
      document.paths as Record<string, Record<string, Operation>>,
    )) {
      for (const operation of Object.values(operations)) {
        expect(operation.security).toEqual(path.startsWith('/v1/') ? [{ apiKey: [] }] : undefined);
        if (path.startsWith('/v1/')) {
          expect(operation.responses['401']?.content['application/json']?.schema).toEqual({
            $ref: '#/components/schemas/Error',
          });
        }
      }
    }
    expect(Object.keys(document.paths['/v1/images'].post.requestBody.content)).toEqual([
      'image/jpeg',
      'image/png',
      'image/webp',
    ]);
  });
});

describe('logs and metrics', () => {
  it('writes one JSON line per request with the request id, never the key or the image', async () => {
    const logged = await start(appFor({ logger: new Logger({ serviceName: 'api-test' }) }));
    const lines = await captureOutput(async () => {
      await logged.post('/v1/images', pelican, {
        headers: { 'content-type': 'image/jpeg', 'x-request-id': 'log-test-1' },
      });
      await logged.get('/v1/results/nope', { headers: { 'x-request-id': 'log-test-2' } });
    });
    const entries = lines.map((line) => JSON.parse(line));
    expect(entries.filter((e) => e.message === 'request')).toEqual([
      expect.objectContaining({
        requestId: 'log-test-1',
        method: 'POST',
        route: 'POST /v1/images',
        status: 201,
        latencyMs: expect.any(Number),
      }),
      expect.objectContaining({
        requestId: 'log-test-2',
        method: 'GET',
        route: 'GET /v1/results/:requestId',
        status: 404,
        error: 'not_found',
      }),
    ]);
    const everything = lines.join('\n');
    expect(everything).not.toContain(apiKey);
    expect(everything).not.toContain(pelican.subarray(0, 64).toString('base64').slice(0, 40));
  });

  it('emits latency and success/failure per route and for the whole API as CloudWatch EMF', async () => {
    const measured = await start(
      appFor({ metrics: new Metrics({ namespace: 'MCVisionTest', serviceName: 'api-test' }) }),
    );
    const lines = await captureOutput(async () => {
      await measured.get('/v1/results');
      await measured.get('/v1/results/unknown-one');
    });
    const emf = lines.map((line) => JSON.parse(line)).filter((entry) => entry._aws);
    expect(emf).toHaveLength(2);
    const [ok, missing] = emf;
    expect(ok._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'MCVisionTest',
      Dimensions: [['service', 'route'], ['service']],
    });
    expect(ok._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name).sort()).toEqual([
      'ClientError',
      'Failure',
      'Latency',
      'Success',
    ]);
    expect(ok).toMatchObject({
      route: 'GET /v1/results',
      Success: 1,
      ClientError: 0,
      Failure: 0,
      Latency: expect.any(Number),
    });
    expect(missing).toMatchObject({
      route: 'GET /v1/results/:requestId',
      Success: 0,
      ClientError: 1,
      Failure: 0,
    });
  });
});
