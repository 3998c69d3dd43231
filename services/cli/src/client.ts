import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// How mcv reaches the API: the local platform by default (http://127.0.0.1:3000, with the key `pnpm start`
// keeps in the data folder), a deployed one with --api and --key (or MCV_API_URL and MCV_API_KEY).

export const defaultApiUrl = 'http://127.0.0.1:3000';
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface Connection {
  api: string;
  key: string;
}

/** The key the local cloud keeps in `<DATA_DIR or .data>/api-key`. */
export async function localKey(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const dataDir = env.DATA_DIR
    ? resolve(env.INIT_CWD ?? process.cwd(), env.DATA_DIR)
    : join(repoRoot, '.data');
  const text = await readFile(join(dataDir, 'api-key'), 'utf8').catch(() => '');
  return text.trim() || undefined;
}

/** An answer that is not what the call needed: its status and the API's error message. */
export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface Client {
  json<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  upload(bytes: Uint8Array, contentType: string): Promise<{ key: string }>;
}

export function client(connection: Connection): Client {
  async function send(
    method: string,
    path: string,
    body: string | Uint8Array | undefined,
    contentType?: string,
  ) {
    const response = await fetch(`${connection.api.replace(/\/+$/, '')}${path}`, {
      method,
      headers: { 'x-api-key': connection.key, ...(contentType ? { 'content-type': contentType } : {}) },
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (response.status >= 400) {
      const message = (parsed as { error?: { message?: string } } | undefined)?.error?.message ?? text;
      throw new ApiCallError(response.status, `${method} ${path}: ${response.status} ${message}`);
    }
    return { status: response.status, body: parsed };
  }
  return {
    json: (method, path, body) =>
      send(
        method,
        path,
        body === undefined ? undefined : JSON.stringify(body),
        body === undefined ? undefined : 'application/json',
      ) as never,
    upload: async (bytes, contentType) =>
      (await send('POST', '/v1/images', bytes, contentType)).body as { key: string },
  };
}
