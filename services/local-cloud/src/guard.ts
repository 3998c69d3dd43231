import { foreignRequest } from '@mc-vision/core';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { checkSignature, type Credentials, type SignatureProblem } from './sigv4.ts';

// The third-party servers of the local cloud (dynalite, s3rver, fauxqs, the model server) answer whatever
// reaches them. `guardServer` puts a check in front of each: its own request handlers run only for the
// requests the check lets through. Every one refuses what is not the owner's (core's `foreignRequest`: a
// foreign Host or Origin); DynamoDB and S3 also refuse what is not signed with the local cloud's credentials.

/** Answers `res` itself, or lets the request (or a stand-in for it) through with `pass`. */
export type Guard = (
  req: IncomingMessage,
  res: ServerResponse,
  pass: (req: IncomingMessage) => void,
) => void | Promise<void>;

/** Runs `guard` before `server`'s own request handlers. Install it before the server listens. */
export function guardServer(server: Server, guard: Guard): void {
  const handlers = server.listeners('request') as RequestListener[];
  if (handlers.length === 0) throw new Error('guardServer: the server has no request handler to guard');
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const pass = (request: IncomingMessage) =>
      handlers.forEach((handler) => handler.call(server, request, res));
    Promise.resolve(guard(req, res, pass)).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
}

/** Why a request to this listener is not the owner's (foreign Host or Origin), if it is not. */
export const notTheOwners = (req: IncomingMessage): string | undefined =>
  foreignRequest(req.headers, req.socket.localPort ?? 0);

/** Reads the whole body (at most `limitBytes`; `undefined` past that). */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The request again, its body already read: what a handler that reads the body by its events sees. */
export function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  return Object.assign(Readable.from(body.length > 0 ? [body] : []), {
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    socket: req.socket,
  }) as unknown as IncomingMessage;
}

/** The signature check of a request, for a service signed as `service` with `credentials`. */
export const signatureProblem = (
  req: IncomingMessage,
  service: string,
  credentials: Credentials,
  body?: Buffer,
): Promise<SignatureProblem | undefined> =>
  checkSignature(
    { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, ...(body ? { body } : {}) },
    { service, credentials },
  );

/** Text for an XML element (S3 and SNS answer errors in XML). */
export const xmlText = (text: string): string =>
  text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
