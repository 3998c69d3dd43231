import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { z } from 'zod';
import { HttpError, parseJson, readBody, sendJson, startHttpServer, type ListenOptions } from '../http.ts';

// The AWS JSON protocol (1.0 and 1.1), shared by every emulator that speaks it (Step Functions, Secrets
// Manager, ...): `POST /` with `X-Amz-Target: <prefix>.<Action>`, a JSON object in and out (gzip-encoded bodies inflated), each action's input
// checked by its zod schema, errors as `{"__type": "<Code>", "message": ...}` (the AWS SDKs raise the exception
// class named by `__type`), and an `x-amzn-requestid` on every answer. A service writes only its actions.

export type AwsJsonVersion = '1.0' | '1.1';

/**
 * One action: its input schema, and what it answers given the service's shared state (`context`) and the
 * checked input (any JSON value; errors are thrown as `HttpError`, e.g. from `protocol.error`).
 */
export interface AwsJsonAction<Context, Schema extends z.ZodType = z.ZodType> {
  input: Schema;
  run(context: Context, input: z.output<Schema>): Promise<unknown>;
}

/** A table of actions by name, over one context. */
export type AwsJsonActions<Context> = Record<string, AwsJsonAction<Context>>;

/**
 * Makes actions over `Context`, each `run` typed by its schema: `const action = awsJsonActionFor<Store>();
 * action(z.object({...}), async (store, input) => ...)`.
 */
export function awsJsonActionFor<Context>() {
  return <Schema extends z.ZodType>(
    input: Schema,
    run: (context: Context, input: z.output<Schema>) => Promise<unknown>,
  ): AwsJsonAction<Context, Schema> => ({ input, run });
}

export interface AwsJsonService {
  /** The part of `X-Amz-Target` before the dot: `AWSStepFunctions`, `secretsmanager`, ... */
  targetPrefix: string;
  version: AwsJsonVersion;
  /** Larger request bodies are refused (413, ValidationException). */
  maxBodyBytes: number;
}

export interface AwsJsonProtocol {
  readonly contentType: string;
  /** An error the SDK raises as the exception class `code`. */
  error(code: string, message: string, status?: number): HttpError;
  /** Serves `actions` over `context` on host:port (through `startHttpServer`). */
  listen<Context>(
    options: ListenOptions,
    actions: AwsJsonActions<Context>,
    context: Context,
  ): ReturnType<typeof startHttpServer>;
}

/** AWS's text for input that breaks the model's constraints: `N validation error(s) detected: ...`. */
export function validationMessage(issues: readonly z.core.$ZodIssue[]): string {
  const described = issues
    .map((issue) => `Value at '${issue.path.join('.')}' failed to satisfy constraint: ${issue.message}`)
    .join('; ');
  return `${issues.length} validation error${issues.length === 1 ? '' : 's'} detected: ${described}`;
}

/** Some SDKs gzip large requests (CloudWatch's PutMetricData): the body as sent, within the same limit. */
function gunzip(body: Buffer, limitBytes: number): Buffer {
  try {
    return gunzipSync(body, { maxOutputLength: limitBytes });
  } catch {
    // Too large once inflated, or not gzip at all: either way not a body the service takes.
    return Buffer.alloc(0);
  }
}

export function awsJsonProtocol(service: AwsJsonService): AwsJsonProtocol {
  const contentType = `application/x-amz-json-${service.version}`;
  const error = (code: string, message: string, status = 400) =>
    new HttpError(status, { __type: code, message }, { 'content-type': contentType });

  async function dispatch<Context>(
    req: IncomingMessage,
    res: ServerResponse,
    actions: AwsJsonActions<Context>,
    context: Context,
  ): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const prefix = `${service.targetPrefix}.`;
    const name = target.startsWith(prefix) ? target.slice(prefix.length) : '';
    const action = Object.hasOwn(actions, name) ? actions[name] : undefined;
    if (req.method !== 'POST' || !action) {
      throw error('UnknownOperationException', `Unknown operation: ${target || `${req.method} ${req.url}`}`);
    }
    const tooLarge = () =>
      error('ValidationException', `Request body is larger than ${service.maxBodyBytes} bytes`, 413);
    const raw = await readBody(req, service.maxBodyBytes, tooLarge);
    const body = parseJson(
      req.headers['content-encoding'] === 'gzip' ? gunzip(raw, service.maxBodyBytes) : raw,
    );
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw error('SerializationException', 'Request body must be a JSON object');
    }
    const parsed = action.input.safeParse(body);
    if (!parsed.success) throw error('ValidationException', validationMessage(parsed.error.issues));
    sendJson(res, 200, await action.run(context, parsed.data), { 'content-type': contentType });
  }

  return {
    contentType,
    error,
    listen: (options, actions, context) =>
      startHttpServer(
        options,
        async (req, res) => {
          // Set before anything is written, so error answers carry it too.
          res.setHeader('x-amzn-requestid', randomUUID());
          await dispatch(req, res, actions, context);
        },
        () => error('InternalFailure', 'The request processing has failed because of an unknown error.', 500),
      ),
  };
}
