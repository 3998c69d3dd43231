import { afterAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { loadConfig } from '@mc-vision/core';
import { cachedHealthChecks, createApp, wireDependencies, type HealthCheck } from '../src/index.ts';
import { serve } from './support/http.ts';

// `/health` needs no key: its checks run at most once per window per process, callers sharing them, and a
// component that goes down is reported once the window has passed. The clock is the test's own.

/** A check whose answer the test sets, counting the times it runs. */
function switchable(name: string, required = true) {
  const state = { up: true, runs: 0 };
  const check: HealthCheck = {
    name,
    required,
    check: async () => {
      state.runs += 1;
      if (!state.up) throw new Error('down');
    },
  };
  return { state, check };
}

describe('cachedHealthChecks', () => {
  it('runs the checks once for callers arriving together, and serves that report within the window', async () => {
    const store = switchable('store');
    let now = 1_000;
    const health = cachedHealthChecks([store.check], { timeoutMs: 100, maxAgeMs: 3_000, now: () => now });

    const together = await Promise.all([health(), health(), health()]);
    expect(store.state.runs).toBe(1);
    expect(together.map((r) => r.ready)).toEqual([true, true, true]);

    now += 2_999;
    expect(await health()).toEqual({ ready: true, components: { store: { status: 'up' } } });
    expect(store.state.runs).toBe(1);
  });

  it('reports a component that went down in the first report after the window', async () => {
    const store = switchable('store');
    const classifier = switchable('classifier', false);
    let now = 0;
    const health = cachedHealthChecks([store.check, classifier.check], {
      timeoutMs: 100,
      maxAgeMs: 3_000,
      now: () => now,
    });
    expect((await health()).ready).toBe(true);

    store.state.up = false;
    now = 1_500; // within the window: the last report still stands
    expect((await health()).ready).toBe(true);
    now = 3_000;
    expect(await health()).toEqual({
      ready: false,
      components: { store: { status: 'down', detail: 'Error' }, classifier: { status: 'up' } },
    });
    expect(store.state.runs).toBe(2);

    store.state.up = true;
    now = 6_000;
    expect((await health()).ready).toBe(true);
  });
});

describe('GET /health', () => {
  const servers: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it('answers concurrent callers from one run of the checks, for a few seconds per process', async () => {
    const store = switchable('store');
    const config = loadConfig({});
    const deps = wireDependencies(config, {
      apiKeys: async () => [],
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    const services = async () => ({ ...(await deps.services()), healthChecks: [store.check] });
    const server = await serve(createApp({ ...deps, services }));
    servers.push(server);

    const answers = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${server.url}/health`).then((r) => r.json())),
    );
    expect(answers).toHaveLength(20);
    for (const answer of answers)
      expect(answer).toMatchObject({ status: 'ok', components: { store: { status: 'up' } } });
    expect(store.state.runs).toBe(1);
  });
});
