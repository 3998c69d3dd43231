import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClassifierResponse, ErrorCode } from '@mc-vision/core/schemas';
import { createClassifier } from './classifier.ts';
import type { ClassifierOptions, ImageClassifier } from './classifier.ts';
import { modelServerDefaults } from './config.ts';
import { ImageRejectedError } from './errors.ts';
import { loadModelPackage } from './model-package.ts';

// The SageMaker container contract (GET /ping, POST /invocations) plus the runtime API's own path
// (POST /endpoints/{name}/invocations), so `@aws-sdk/client-sagemaker-runtime` with an endpoint override talks
// to this server exactly as it talks to SageMaker: same request, same response, same named errors.

export type LogEvent = Record<string, unknown> & { event: string };

export interface ModelServerHandlerOptions {
  /** The classifier, or its loading: until it resolves /ping answers 503. */
  classifier: ImageClassifier | Promise<ImageClassifier>;
  maxImageBytes?: number;
  /** The endpoint name the runtime path serves (default `SAGEMAKER_ENDPOINT_NAME`'s default). */
  endpointName?: string;
  log?: (event: LogEvent) => void;
  /** Told of every answer it sends (the local cloud's LLM emulators reuse it for the same image). */
  answered?: Answered;
}

/** An image the server classified, with the number of labels asked for, and its answer. */
export type Answered = (image: Uint8Array, topK: number, answer: ClassifierResponse) => void;

type Style = 'container' | 'runtime';

class HttpError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  constructor(status: number, code: ErrorCode, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const endpointPath = /^\/endpoints\/([^/]+)\/invocations$/;

/** An error of SageMaker's runtime API itself (not the container's), sent as the runtime sends it. */
class RuntimeApiError extends Error {
  readonly status: number;
  readonly type: string;
  constructor(status: number, type: string, message: string) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

/** The runtime names the caller's account; the local server checks no credentials, so it is a fixed one. */
const localAccount = '000000000000';

/** The HTTP server without listening: for callers that manage the model's loading themselves. */
export function createModelServer(options: ModelServerHandlerOptions): Server {
  const maxImageBytes = options.maxImageBytes ?? modelServerDefaults.MAX_IMAGE_BYTES;
  const endpointName = options.endpointName ?? modelServerDefaults.SAGEMAKER_ENDPOINT_NAME;
  const log = options.log ?? (() => {});
  let classifier: ImageClassifier | undefined;
  let loadError: string | undefined;
  Promise.resolve(options.classifier).then(
    (loaded) => (classifier = loaded),
    (error: unknown) => (loadError = error instanceof Error ? error.message : String(error)),
  );

  const readyClassifier = (): ImageClassifier => {
    if (classifier?.ready) return classifier;
    const reason = loadError
      ? `the model failed to load: ${loadError}`
      : classifier
        ? 'the model stopped'
        : 'the model is loading';
    throw new HttpError(503, 'not_ready', reason);
  };

  return createServer(async (req, res) => {
    const requestId = randomUUID();
    const started = performance.now();
    // URL.parse, not new URL: a request target that is not a URL must get a 404, not an exception.
    const url = URL.parse(req.url ?? '/', 'http://model-server') ?? new URL('http://model-server/not-a-url');
    const endpoint = url.pathname.match(endpointPath)?.[1];
    const style: Style = endpoint === undefined ? 'container' : 'runtime';
    try {
      if (url.pathname === '/ping') {
        if (req.method !== 'GET') throw methodNotAllowed(res, 'GET');
        const ready = readyClassifier();
        return sendJson(res, 200, { status: 'ready', model: ready.model });
      }
      if (url.pathname !== '/invocations' && style !== 'runtime') {
        throw new HttpError(404, 'not_found', `no route ${url.pathname}: use GET /ping or POST /invocations`);
      }
      if (req.method !== 'POST') throw methodNotAllowed(res, 'POST');
      if (endpoint !== undefined && safeDecode(endpoint) !== endpointName) {
        req.resume(); // the body is not read: SageMaker refuses the call before it reaches a container
        throw new RuntimeApiError(
          400,
          'ValidationError',
          `Endpoint ${safeDecode(endpoint) ?? endpoint} of account ${localAccount} not found.`,
        );
      }

      const ready = readyClassifier();
      const topK = requestedTopK(url, req.headers['x-amzn-sagemaker-custom-attributes'], ready);
      const body = await readBody(req, maxImageBytes);
      const answer = await ready.classify(body, { topK });
      options.answered?.(body, topK, answer);
      if (style === 'runtime') res.setHeader('x-Amzn-Invoked-Production-Variant', 'AllTraffic');
      sendJson(res, 200, answer);
      log({
        event: 'invocation',
        requestId,
        status: 200,
        bytes: body.byteLength,
        top: answer.labels[0]?.label,
        ms: Math.round(performance.now() - started),
      });
    } catch (error) {
      if (error instanceof RuntimeApiError) {
        log({ event: 'invocation', requestId, status: error.status, code: error.type });
        res.setHeader('x-amzn-errortype', error.type);
        return sendJson(res, error.status, { message: error.message });
      }
      const failure =
        error instanceof HttpError || error instanceof ImageRejectedError
          ? { status: error.status, code: error.code, message: error.message }
          : { status: 500, code: 'internal' as const, message: 'the model server failed on this request' };
      if (failure.status === 500) log({ event: 'error', requestId, error: (error as Error).message });
      if (url.pathname !== '/ping') {
        log({
          event: 'invocation',
          requestId,
          status: failure.status,
          code: failure.code,
          ms: Math.round(performance.now() - started),
        });
      }
      const answerAs = failure.status === 405 ? 'container' : style;
      sendError(res, answerAs, failure.status, { code: failure.code, message: failure.message, requestId });
    }
  });
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export interface ModelServerOptions extends ClassifierOptions {
  /** A model package folder (manifest.json, the ONNX file, labels.json). */
  modelDir: string;
  /** Default 8080 (SageMaker's); 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1; a container must listen on 0.0.0.0. */
  host?: string;
  /** The endpoint name the runtime path serves, see `ModelServerHandlerOptions`. */
  endpointName?: string;
  log?: (event: LogEvent) => void;
  answered?: Answered;
  /** Called with the HTTP server before it listens (the local cloud puts its request checks in front). */
  beforeListen?: (server: Server) => void;
}

export interface RunningModelServer {
  /** Base URL, e.g. http://127.0.0.1:8080 (POST `${url}/invocations`). */
  url: string;
  port: number;
  classifier: ImageClassifier;
  /** Stops accepting connections, lets requests in flight finish, then stops the model. */
  close(): Promise<void>;
}

/**
 * Listens at once (so /ping answers 503 while the model loads), loads and verifies the model package, and
 * resolves when /ping answers 200. Rejects (with the server closed) if the package cannot be served.
 */
export async function startModelServer(options: ModelServerOptions): Promise<RunningModelServer> {
  // Loading starts once the port is ours: a server that cannot listen must not leave an inference worker
  // thread running (it would keep the process alive).
  const loading = Promise.withResolvers<ImageClassifier>();
  const server = createModelServer({
    classifier: loading.promise,
    maxImageBytes: options.maxImageBytes,
    endpointName: options.endpointName,
    log: options.log,
    answered: options.answered,
  });
  const host = options.host ?? modelServerDefaults.HOST;
  options.beforeListen?.(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? modelServerDefaults.PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  loading.resolve(loadModelPackage(options.modelDir).then((pkg) => createClassifier(pkg, options)));
  let classifier: ImageClassifier;
  try {
    classifier = await loading.promise;
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${displayHost(host)}:${port}`,
    port,
    classifier,
    async close() {
      await closeServer(server);
      await classifier.close();
    },
  };
}

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Requests in flight get a few seconds to finish; then their connections are cut.
  const force = setTimeout(() => server.closeAllConnections(), 5_000);
  await closed;
  clearTimeout(force);
}

function methodNotAllowed(res: ServerResponse, allowed: string): HttpError {
  res.setHeader('allow', allowed);
  return new HttpError(405, 'invalid_request', `use ${allowed}`);
}

/** `?top_k=N` wins over the `top_k=N` entry of SageMaker's custom attributes (`key=value` pairs, `;` or `,`). */
function requestedTopK(
  url: URL,
  customAttributes: string | string[] | undefined,
  classifier: ImageClassifier,
): number {
  const fromHeader = [customAttributes ?? []]
    .flat()
    .flatMap((value) => value.split(/[;,]/))
    .map((pair) => pair.trim().split('='))
    .find(([key]) => key?.trim() === 'top_k')?.[1];
  const raw = url.searchParams.get('top_k') ?? fromHeader?.trim();
  if (raw === undefined) return classifier.defaultTopK;
  const topK = Number(raw);
  if (!/^\d+$/.test(raw) || topK < 1 || topK > classifier.labels.length) {
    throw new HttpError(
      400,
      'invalid_request',
      `top_k must be a whole number from 1 to ${classifier.labels.length}`,
    );
  }
  return topK;
}

/** The body, or a 413 as soon as it is known to be over the limit (declared or counted). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, 'payload_too_large', `the body is larger than ${limit} bytes`);
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > limit) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.resume(); // discard the rest; the 413 goes out on a connection that stays usable
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('end', () => {
      if (size === 0)
        reject(new HttpError(400, 'invalid_request', 'send the image (JPEG, PNG or WebP) as the body'));
      else if (size <= limit) resolve(Buffer.concat(chunks));
    });
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete)
        reject(new HttpError(400, 'invalid_request', 'the connection closed before the whole body arrived'));
    });
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The container answers `{error: {code, message, requestId}}` with its status. On the runtime path the
 * answer is what SageMaker's InvokeEndpoint returns for it: a container error becomes ModelError (424) carrying
 * the container's status and body; a model still loading is ModelNotReadyException (429).
 */
function sendError(
  res: ServerResponse,
  style: Style,
  status: number,
  error: { code: ErrorCode; message: string; requestId: string },
) {
  if (res.headersSent) return void res.destroy();
  const containerBody = JSON.stringify({ error });
  if (style === 'container') {
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(containerBody),
    });
    return void res.end(containerBody);
  }
  if (status === 503) {
    res.setHeader('x-amzn-errortype', 'ModelNotReadyException');
    return sendJson(res, 429, { message: `Model is not ready: ${error.message}` });
  }
  const kind = status < 500 ? 'client' : 'server';
  res.setHeader('x-amzn-errortype', 'ModelError');
  sendJson(res, 424, {
    ErrorCode: status < 500 ? 'CLIENT_ERROR_FROM_MODEL' : 'SERVER_ERROR_FROM_MODEL',
    Message: `Received ${kind} error (${status}) from primary with message "${containerBody}".`,
    OriginalStatusCode: status,
    OriginalMessage: containerBody,
  });
}
