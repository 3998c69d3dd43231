import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { loadConfig } from '@mc-vision/core';
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { apiKeyFile, startApiServer } from '../src/index.ts';
import { apiClient, expectError } from './support/http.ts';
import { startLocalAws, type LocalAws } from './support/local-aws.ts';

// The laptop entry: a plain Node HTTP server on loopback, its API key, and the web UI on the same origin.

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws?.close();
});

const silent = new Logger({ logLevel: 'SILENT' });
const configFor = (env: Record<string, string>) => loadConfig({ ...aws.env, ...env });

/** `default-src 'self'; img-src 'self' blob:` → `{'default-src': ["'self'"], 'img-src': ["'self'", 'blob:']}` */
const parseCsp = (header: string | undefined) =>
  Object.fromEntries(
    (header ?? '')
      .split(';')
      .map((directive) => directive.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...values]) => [name, values]),
  );

describe('the local API key', () => {
  it('is generated on first start, kept owner-only under DATA_DIR, and reused after a restart', async () => {
    const dataDir = join(await mkdtemp(join(aws.dataDir, 'keys-')), '.data');
    const first = await startApiServer({ config: configFor({ DATA_DIR: dataDir }), port: 0, logger: silent });
    await first.close();
    expect(first.apiKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const file = apiKeyFile(dataDir);
    expect((await readFile(file, 'utf8')).trim()).toBe(first.apiKey);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const second = await startApiServer({
      config: configFor({ DATA_DIR: dataDir }),
      port: 0,
      logger: silent,
    });
    try {
      expect(second.apiKey).toBe(first.apiKey);
      const api = apiClient(second.url, second.apiKey);
      expect((await api.get('/v1/results')).status).toBe(200);
      expectError(
        await api.get('/v1/results', { apiKey: 'a-different-key-0123456789' }),
        401,
        'unauthorized',
      );
    } finally {
      await second.close();
    }
  });

  it('is API_KEY when set, and then no file is written', async () => {
    const dataDir = await mkdtemp(join(aws.dataDir, 'env-key-'));
    const server = await startApiServer({
      config: configFor({ DATA_DIR: dataDir, API_KEY: 'from-the-environment-123' }),
      port: 0,
      logger: silent,
    });
    try {
      expect(server.apiKey).toBe('from-the-environment-123');
      expect((await apiClient(server.url, server.apiKey).get('/v1/results')).status).toBe(200);
      await expect(stat(apiKeyFile(dataDir))).rejects.toThrow(/ENOENT/);
    } finally {
      await server.close();
    }
  });

  it('refuses to start on a key file that holds no key', async () => {
    const dataDir = await mkdtemp(join(aws.dataDir, 'bad-key-'));
    await writeFile(apiKeyFile(dataDir), 'short\n');
    await expect(
      startApiServer({ config: configFor({ DATA_DIR: dataDir }), port: 0, logger: silent }),
    ).rejects.toThrow(/does not hold an API key/);
  });

  it('listens on loopback only', async () => {
    const server = await startApiServer({
      config: configFor({ DATA_DIR: aws.dataDir }),
      port: 0,
      logger: silent,
    });
    await server.close();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('the web UI on the same origin', () => {
  let url: string;
  let apiKey: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const webRoot = join(aws.dataDir, 'web-dist');
    await mkdir(join(webRoot, 'assets'), { recursive: true });
    await writeFile(
      join(webRoot, 'index.html'),
      '<!doctype html><title>MC Vision</title><div id="root"></div>',
    );
    await writeFile(join(webRoot, 'assets', 'app-1a2b3c.js'), 'console.log("ui")');
    const server = await startApiServer({
      config: configFor({ DATA_DIR: aws.dataDir }),
      port: 0,
      logger: silent,
      webRoot,
    });
    ({ url, apiKey, close } = server);
  });
  afterAll(() => close?.());

  it('serves the UI at / and its assets', async () => {
    const index = await fetch(`${url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await index.text()).toContain('MC Vision');
    const asset = await fetch(`${url}/assets/app-1a2b3c.js`);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
  });

  it('answers client-side routes with index.html', async () => {
    const page = await fetch(`${url}/results/some-request-id`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
  });

  it('answers 404 (not 400) when the built UI has no index.html', async () => {
    const emptyRoot = await mkdtemp(join(aws.dataDir, 'no-ui-'));
    const server = await startApiServer({
      config: configFor({ DATA_DIR: aws.dataDir }),
      port: 0,
      logger: silent,
      webRoot: emptyRoot,
    });
    try {
      const api = apiClient(server.url, server.apiKey);
      const message = expectError(await api.get('/results/some-request-id'), 404, 'not_found');
      expect(message).not.toContain(emptyRoot);
    } finally {
      await server.close();
    }
  });

  it('sends the security headers with the UI, its assets and every API answer', async () => {
    const api = apiClient(url, apiKey);
    const answers = {
      'the UI': await fetch(`${url}/`),
      'a client-side route': await fetch(`${url}/results/some-request-id`),
      'an asset': await fetch(`${url}/assets/app-1a2b3c.js`),
      'an API answer': await fetch(`${url}/v1/results`, { headers: { 'x-api-key': apiKey } }),
      'an API error': await fetch(`${url}/v1/results/missing-one`, { headers: { 'x-api-key': apiKey } }),
      'a refused request': await fetch(`${url}/v1/results`),
      // No Step Functions here: /health answers 503, with the headers all the same.
      '/health': await fetch(`${url}/health`),
    };
    expect(Object.values(answers).map((r) => r.status)).toEqual([200, 200, 200, 200, 404, 401, 503]);
    for (const [what, response] of Object.entries(answers)) {
      const headers = Object.fromEntries(response.headers);
      expect({ what, csp: parseCsp(headers['content-security-policy']) }).toEqual({
        what,
        csp: {
          'default-src': ["'self'"],
          'script-src': ["'self'"],
          'script-src-attr': ["'none'"],
          'style-src': ["'self'"],
          'img-src': ["'self'", 'blob:', 'data:'],
          'connect-src': ["'self'"],
          'font-src': ["'self'"],
          'object-src': ["'none'"],
          'base-uri': ["'none'"],
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
        },
      });
      expect({ what, ...headers }).toMatchObject({
        what,
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
      });
      expect(headers['x-powered-by']).toBeUndefined();
    }
    // The API keeps working under them.
    expect((await api.get('/v1/results')).status).toBe(200);
  });

  it('keeps API paths and missing files as JSON 404s', async () => {
    const api = apiClient(url, apiKey);
    expectError(await api.get('/v1/unknown'), 404, 'not_found');
    expectError(await api.get('/assets/missing.js'), 404, 'not_found');
    expect((await api.get('/v1/results')).body).toEqual({ items: expect.any(Array) });
    expect((await api.get('/openapi.json')).body.openapi).toBe('3.1.0');
  });
});
