import { foreignRequest, hasBearerToken } from '@mc-vision/core';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// Plumbing shared by the emulators: a loopback HTTP server, bounded body reading, JSON answers.

export interface EmulatorServer {
  /** Base URL, e.g. `http://127.0.0.1:43117`. */
  url: string;
  close(): Promise<void>;
}

/** Where the emulators' fault and admin routes live (`faults.ts`); they need the per-run token when one is set. */
export const adminRoutePrefix = '/_emulator/';

export interface ListenOptions {
  /** Default 127.0.0.1: emulators never listen on other interfaces unless asked. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /**
   * The per-run token the fault and admin routes (`/_emulator/…`) require as `Authorization: Bearer <token>`
   * (the local cloud always sets one). Without it those routes are open, for tests that start an emulator alone.
   */
  adminToken?: string;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Thrown by handlers to answer with a status and body without a stack trace reaching the client. */
export class HttpError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;

  constructor(status: number, body: unknown, headers: Record<string, string> = {}) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/**
 * Starts `handler` on host:port. `onError` turns anything a handler throws that is not an `HttpError` into the
 * service's own error format (a 500 in the service's shape), so a bug never answers with a stack trace.
 */
export async function startHttpServer(
  options: ListenOptions,
  handler: RequestHandler,
  onError: (error: unknown) => HttpError,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const refused = refusal(req, options.adminToken);
    if (refused) {
      sendJson(res, refused.status, refused.body, refused.headers);
      return;
    }
    handler(req, res).catch((error: unknown) => {
      const httpError = error instanceof HttpError ? error : onError(error);
      if (!(error instanceof HttpError)) console.error('emulator: unexpected error', error);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(res, httpError.status, httpError.body, httpError.headers);
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { server, url: `http://${urlHost}:${port}` };
}

/**
 * A request that is not the owner's (core's `foreignRequest`: a foreign Host or Origin) is refused with 403, in
 * a shape every client of these emulators reads as its service's access-denied error: `x-amzn-errortype`,
 * `__type` and `message` for the AWS SDKs (AccessDeniedException), `error: {code, message}` for Azure OpenAI's.
 * An admin route without the token is 401 in the admin routes' own `{error}` shape.
 */
function refusal(req: IncomingMessage, adminToken: string | undefined): HttpError | undefined {
  const foreign = foreignRequest(req.headers, req.socket.localPort ?? 0);
  if (foreign) {
    return new HttpError(
      403,
      {
        __type: 'AccessDeniedException',
        message: foreign,
        error: { code: 'AccessDenied', message: foreign },
      },
      { 'x-amzn-errortype': 'AccessDeniedException' },
    );
  }
  const admin = requestUrl(req).pathname.startsWith(adminRoutePrefix);
  if (admin && adminToken !== undefined && !hasBearerToken(req.headers.authorization, adminToken)) {
    return new HttpError(
      401,
      { error: "the admin routes need the local cloud's token: Authorization: Bearer <token>" },
      { 'www-authenticate': 'Bearer' },
    );
  }
  return undefined;
}

export async function stopHttpServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

/** Reads the whole body, refusing more than `limitBytes` (the caller's service-specific 413). */
export async function readBody(
  req: IncomingMessage,
  limitBytes: number,
  tooLarge: () => HttpError,
): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The request's URL. A request target that is no URL (`//[`) reads as `/`, which no service route matches: the
 * service answers its own "not found", never a 500.
 */
export function requestUrl(req: IncomingMessage): URL {
  return URL.parse(req.url ?? '/', 'http://emulator') ?? new URL('http://emulator/');
}

/** `decodeURIComponent` that answers `undefined` for malformed escapes instead of throwing. */
export function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Parses a JSON body; `undefined` when it is not JSON (the caller answers in its service's format). */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(payload.length),
    ...headers,
  });
  res.end(payload);
}
