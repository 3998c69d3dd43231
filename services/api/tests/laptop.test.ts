import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { loadConfig } from '@mc-vision/core';
import { request } from 'node:http';
import { createApp, wireDependencies } from '../src/index.ts';
import { apiClient, expectError, serve, type ApiClient } from './support/http.ts';

// The API as a laptop serves it: only its owner's requests (loopback Host, no foreign Origin), and the one-time
// sign-in that exchanges the code of `pnpm start`'s link for the key. Neither route needs a backing service.

const apiKey = 'laptop-test-key-0123456789';
const code = 'one-time-code-0123456789abcdef';
const config = loadConfig({ API_KEY: apiKey, CORS_ORIGINS: 'http://localhost:5173' });

let server: { url: string; close(): Promise<void> };
let api: ApiClient;

beforeAll(async () => {
  server = await serve(
    createApp(
      wireDependencies(config, {
        apiKeys: async () => [apiKey],
        logger: new Logger({ logLevel: 'SILENT' }),
        loopbackOnly: true,
        signIn: { code, apiKey },
      }),
    ),
  );
  api = apiClient(server.url, apiKey);
});

afterAll(() => server?.close());

/** GET /openapi.json with exactly these headers (fetch would not let a test set Host). */
function statusWith(headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path: '/openapi.json', headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the API on a laptop', () => {
  it('answers its owner: a loopback name with its port, its own origin or CORS_ORIGINS', async () => {
    const { port } = new URL(server.url);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      expect((await statusWith({ host })).status).toBe(200);
      expect((await statusWith({ host, origin: `http://${host}` })).status).toBe(200);
    }
    expect((await statusWith({ host: `127.0.0.1:${port}`, origin: 'http://localhost:5173' })).status).toBe(
      200,
    );
  });

  it('refuses another host name (DNS rebinding) or another page’s origin with 403 forbidden', async () => {
    const { port } = new URL(server.url);
    const refusedHeaders: Record<string, string>[] = [
      { host: `evil.example:${port}` },
      { host: `127.0.0.1:${Number(port) + 1}` },
      { host: `127.0.0.1:${port}`, origin: 'http://evil.example' },
      { host: `127.0.0.1:${port}`, origin: 'null' },
    ];
    for (const headers of refusedHeaders) {
      const { status, body } = await statusWith(headers);
      expect(status).toBe(403);
      expect(JSON.parse(body).error).toMatchObject({ code: 'forbidden' });
    }
    const refused = await api.get('/v1/results', { headers: { origin: 'http://evil.example' } });
    expect(expectError(refused, 403, 'forbidden')).toBe(
      'requests from the web page at http://evil.example are not accepted here',
    );
  });

  it('exchanges the sign-in code for the key exactly once', async () => {
    expectError(await api.post('/local/sign-in', { code: 'not-the-code-0123456789' }), 401, 'unauthorized');
    expectError(await api.post('/local/sign-in', { code: 'short' }), 400, 'invalid_request');
    const first = await api.post('/local/sign-in', { code }, { apiKey: null });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ apiKey });
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(
      expectError(await api.post('/local/sign-in', { code }, { apiKey: null }), 401, 'unauthorized'),
    ).toMatch(/this sign-in link has been used already/);
  });
});
