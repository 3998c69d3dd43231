import { expect } from '@jest/globals';
import { errorResponseSchema, type ErrorCode } from '@mc-vision/core';
import type { RequestListener } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response is JSON, else the text. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** An object is sent as JSON; bytes or a string as they are (set content-type yourself). */
  body?: unknown;
  /** Default: the client's key. `null` sends none. */
  apiKey?: string | null;
}

export interface ApiClient {
  url: string;
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
  get(path: string, options?: RequestOptions): Promise<ApiResponse>;
  post(path: string, body?: unknown, options?: RequestOptions): Promise<ApiResponse>;
}

export function apiClient(url: string, apiKey: string): ApiClient {
  async function request(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    const key = options.apiKey === undefined ? apiKey : options.apiKey;
    if (key !== null) headers['x-api-key'] = key;
    let body: RequestInit['body'];
    if (options.body instanceof Uint8Array || typeof options.body === 'string') {
      body = options.body as RequestInit['body'];
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { ...headers, ...options.headers },
      body,
    });
    const text = await response.text();
    const isJson = response.headers.get('content-type')?.startsWith('application/json');
    return { status: response.status, headers: response.headers, body: isJson ? JSON.parse(text) : text };
  }
  return {
    url,
    request,
    get: (path, options) => request('GET', path, options),
    post: (path, body, options) => request('POST', path, { ...options, body }),
  };
}

/** The contract's error answer: JSON `{error: {code, message, requestId}}`, the id echoed in `x-request-id`. */
export function expectError(response: ApiResponse, status: number, code: ErrorCode): string {
  expect({ status: response.status, body: response.body }).toMatchObject({
    status,
    body: { error: { code } },
  });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const { error } = errorResponseSchema.parse(response.body);
  expect(error.requestId).toBe(response.headers.get('x-request-id'));
  expect(error.message).not.toMatch(/\n\s+at /); // never a stack trace
  return error.message;
}

/** Any request listener on loopback, port 0. */
export async function serve(listener: RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
