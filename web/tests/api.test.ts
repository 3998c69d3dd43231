import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pipelineStatusResponseSchema } from '@mc-vision/core/schemas';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, createApiClient, parseResponse } from '../src/api.ts';
import { imageKey, pipelineStatus, record } from './fixtures.ts';

// A real HTTP server answering canned responses, so the client runs over real fetch; the real API is
// exercised by the browser test.
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}
let server: Server;
let baseUrl: string;
const seen: Seen[] = [];
const answers = new Map<string, { status: number; body: string; type?: string }>();
const answer = (route: string, status: number, body: unknown, type = 'application/json') =>
  answers.set(route, { status, body: typeof body === 'string' ? body : JSON.stringify(body), type });

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks),
    });
    const canned = answers.get(`${req.method} ${req.url?.split('?')[0]}`);
    if (!canned) {
      res.writeHead(500).end();
      return;
    }
    res.writeHead(canned.status, { 'content-type': canned.type ?? 'application/json' }).end(canned.body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const lastRequest = () => seen[seen.length - 1]!;

describe('API client', () => {
  const client = () => createApiClient({ apiKey: 'secret-key', baseUrl });

  it('uploads the raw bytes with their content type and the key, and returns the parsed image', async () => {
    const image = {
      key: imageKey,
      sha256: 'a'.repeat(64),
      width: 640,
      height: 480,
      contentType: 'image/jpeg',
      bytes: 3,
    };
    answer('POST /v1/images', 201, image);
    const bytes = new Blob([new Uint8Array([0xff, 0xd8, 0xff])], { type: 'image/jpeg' });

    await expect(client().uploadImage(bytes)).resolves.toEqual(image);
    expect(lastRequest().headers['x-api-key']).toBe('secret-key');
    expect(lastRequest().headers['content-type']).toBe('image/jpeg');
    expect([...lastRequest().body]).toEqual([0xff, 0xd8, 0xff]);
  });

  it('posts the chosen providers as JSON and validates the record that comes back', async () => {
    answer('POST /v1/analyses', 200, record);
    await expect(client().analyse(imageKey, ['sagemaker', 'bedrock'])).resolves.toEqual(record);
    expect(lastRequest().headers['content-type']).toBe('application/json');
    expect(JSON.parse(lastRequest().body.toString())).toEqual({
      key: imageKey,
      providers: ['sagemaker', 'bedrock'],
    });
  });

  it('posts the route policy and returns the chosen provider with its reason', async () => {
    answer('POST /v1/route', 200, { chosen: 'azure', reason: 'cheapest per image', result: record });
    const routed = await client().route(imageKey, 'cost');
    expect(routed.chosen).toBe('azure');
    expect(routed.reason).toBe('cheapest per image');
    expect(JSON.parse(lastRequest().body.toString())).toEqual({ key: imageKey, policy: 'cost' });
  });

  it('escapes the execution ARN into one path segment', async () => {
    const status = pipelineStatus('SUCCEEDED');
    answer(
      'GET /v1/pipelines/arn%3Aaws%3Astates%3Aus-east-1%3A000000000000%3Aexecution%3Amc-vision%3Areq-1',
      200,
      status,
    );
    await expect(client().getPipeline(status.executionId)).resolves.toEqual(status);
  });

  it('asks for a page of results with the limit and the next token', async () => {
    answer('GET /v1/results', 200, { items: [record], nextToken: 'eyJrIjoiMSJ9+/=' });
    const page = await client().listResults('eyJrIjoiMSJ9+/=', 5);
    expect(page).toEqual({ items: [record], nextToken: 'eyJrIjoiMSJ9+/=' });
    const query = new URL(lastRequest().url, baseUrl).searchParams;
    expect(query.get('limit')).toBe('5');
    expect(query.get('nextToken')).toBe('eyJrIjoiMSJ9+/=');
  });

  it("turns the API's error body into an ApiError with status, code, message and request id", async () => {
    answer('POST /v1/pipelines', 401, {
      error: { code: 'unauthorized', message: 'Missing or invalid API key', requestId: 'r-401' },
    });
    const error = await client()
      .startPipeline(imageKey)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 401,
      code: 'unauthorized',
      message: 'Missing or invalid API key',
      requestId: 'r-401',
    });
  });

  it('explains an error answer that is not the API’s JSON (a proxy page) by its status', async () => {
    answer('POST /v1/pipelines', 502, '<html>Bad gateway</html>', 'text/html');
    await expect(client().startPipeline(imageKey)).rejects.toMatchObject({
      status: 502,
      code: 'http_error',
      message: expect.stringContaining('HTTP 502'),
    });
  });

  it('rejects a success answer that breaks the contract, naming the field', async () => {
    answer('POST /v1/analyses', 200, { ...record, status: 'done' });
    await expect(client().analyse(imageKey, ['sagemaker'])).rejects.toMatchObject({
      code: 'bad_response',
      message: expect.stringContaining('status'),
    });
  });

  it('reports a network failure as status 0 with code network', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const offline = createApiClient({ apiKey: 'k', baseUrl: `http://127.0.0.1:${port}` });
    await expect(offline.listResults()).rejects.toMatchObject({ status: 0, code: 'network' });
  });
});

describe('parseResponse', () => {
  it('treats an empty error body like any non-API error', async () => {
    const response = new Response(null, { status: 503, statusText: 'Service Unavailable' });
    await expect(parseResponse(response, pipelineStatusResponseSchema)).rejects.toMatchObject({
      status: 503,
      message: 'The API answered HTTP 503 Service Unavailable.',
    });
  });
});
