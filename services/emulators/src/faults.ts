import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { adminRoutePrefix, HttpError, parseJson, readBody, sendJson } from './http.ts';

// Fault injection for tests: `POST /_emulator/faults {status, times?, retryAfterSeconds?, type?}` makes the next
// `times` service requests fail with that status, in the service's own error shape. `GET` lists what is queued,
// `DELETE` clears it. Admin routes are never faulted themselves, and need the local cloud's token.

export const faultRoute = `${adminRoutePrefix}faults`;

export const faultSchema = z.strictObject({
  status: z.number().int().min(400).max(599),
  times: z.number().int().min(1).max(1000).default(1),
  /** Sent as the `retry-after` header. */
  retryAfterSeconds: z.number().int().min(0).max(3600).optional(),
  /** The service's error type, when the status alone does not say (e.g. Bedrock's ModelTimeoutException). */
  type: z.string().min(1).max(100).optional(),
});
export type Fault = z.infer<typeof faultSchema>;
export type FaultInput = z.input<typeof faultSchema>;

export class FaultQueue {
  private readonly queue: Fault[] = [];

  add(fault: Fault): void {
    this.queue.push({ ...fault });
  }

  /** The fault the next request must fail with, if any (one use of it). */
  take(): Fault | undefined {
    const head = this.queue[0];
    if (!head) return undefined;
    head.times -= 1;
    if (head.times <= 0) this.queue.shift();
    return { ...head };
  }

  list(): Fault[] {
    return this.queue.map((fault) => ({ ...fault }));
  }

  clear(): void {
    this.queue.length = 0;
  }
}

/**
 * Serves the admin route. `accepts` says whether the service can render that fault (else 400).
 * Returns false when the request is not for the admin route.
 */
export async function serveFaultAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  faults: FaultQueue,
  accepts: (fault: Fault) => string | undefined,
): Promise<boolean> {
  if (pathname !== faultRoute) return false;
  const badRequest = (message: string) => new HttpError(400, { error: message });
  if (req.method === 'GET') {
    sendJson(res, 200, { faults: faults.list() });
  } else if (req.method === 'DELETE') {
    faults.clear();
    sendJson(res, 200, { faults: [] });
  } else if (req.method === 'POST') {
    const body = parseJson(await readBody(req, 64 * 1024, () => badRequest('body too large')));
    const parsed = faultSchema.safeParse(body);
    if (!parsed.success) throw badRequest(z.prettifyError(parsed.error));
    const problem = accepts(parsed.data);
    if (problem) throw badRequest(problem);
    faults.add(parsed.data);
    sendJson(res, 201, { faults: faults.list() });
  } else {
    throw new HttpError(405, { error: 'use GET, POST or DELETE' }, { allow: 'GET, POST, DELETE' });
  }
  return true;
}
