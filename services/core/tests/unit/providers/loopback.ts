import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { throttlingErrors, transientWorkerErrors } from '../../../src/index.ts';

// A loopback HTTP server that answers like a cloud service: each test says how to answer, every request is
// recorded so the test can check what the real SDK client put on the wire.

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings and buffers as they are. */
  body?: unknown;
}

export type Handler = (request: RecordedRequest) => Reply | Promise<Reply>;

export interface Loopback {
  url: string;
  requests: RecordedRequest[];
  /** Sets how the server answers from now on (and forgets recorded requests). */
  answer(handler: Handler): void;
  close(): Promise<void>;
}

export async function startLoopback(): Promise<Loopback> {
  let handler: Handler = () => ({ status: 500, body: { message: 'no handler set' } });
  const requests: RecordedRequest[] = [];

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(recorded);
      Promise.resolve(handler(recorded))
        .then((reply) => {
          const isJson = typeof reply.body === 'object' && !Buffer.isBuffer(reply.body);
          const body = isJson
            ? JSON.stringify(reply.body)
            : ((reply.body as string | Buffer | undefined) ?? '');
          res.writeHead(reply.status ?? 200, {
            ...(isJson ? { 'content-type': 'application/json' } : {}),
            ...reply.headers,
          });
          res.end(body);
        })
        .catch((error: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: String(error) }));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer(next) {
      handler = next;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** An AWS JSON-protocol error, as Bedrock and SageMaker runtime send them. */
export function awsError(
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): Reply {
  return { status, headers: { 'x-amzn-errortype': type, ...headers }, body: { message } };
}

/** A port nothing listens on (the server is opened and closed again). */
export async function closedPort(): Promise<string> {
  const loopback = await startLoopback();
  await loopback.close();
  return loopback.url;
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Whether the pipeline's Retry would try a task that failed with this error again. */
export function retriedByPipeline(error: Error): boolean {
  return ([...throttlingErrors, ...transientWorkerErrors] as string[]).includes(error.name);
}
