// The pipeline benchmark's clients, on a worker thread of their own: each starts pipelines one after another
// and polls every one until it ends, as the UI does (at the interval it is given). Clients run on other
// machines, so they are kept off the local cloud's event loop, whose time per pipeline is what is measured.
import { Agent, request } from 'node:http';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

export interface Outcome {
  status: string;
  executionId?: string;
  /** Start request sent → terminal status seen by the client. */
  observedMs: number;
  /** The execution's own stopDate − startDate. */
  executionMs: number;
  /** Start request sent → the execution's startDate (wall clocks; both threads share one). */
  startDelayMs?: number;
  /** The execution's stopDate → the poll that saw it ended, answered. */
  seenAfterMs?: number;
  /** Each step's endedAt − startedAt, by step name, as the last poll reported them. */
  stepMs?: Record<string, number>;
}

interface ClientsJob {
  url: string;
  apiKey: string;
  /** One list of image keys per client, its pipelines run one after another. */
  keysByClient: string[][];
  pollEveryMs: number;
  /** A pipeline not finished this long after it started is counted lost. */
  lostAfterMs: number;
}

/** Runs the clients on a worker thread; answers every pipeline's outcome, client by client. */
export function runClients(job: ClientsJob): Promise<Outcome[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    worker.once('message', (outcomes: Outcome[]) => resolve(outcomes));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the clients' thread exited with ${code}`)));
  });
}

// node:http with a keep-alive agent, the leanest client there is: the clients share this machine's cores with the
// local cloud, so what they spend themselves is kept small (fetch costs about half a millisecond more a request).
const agent = new Agent({ keepAlive: true });

/** One API request, its JSON answer parsed. */
function api(job: ClientsJob, path: string, body?: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const sent = request(
      `${job.url}${path}`,
      {
        agent,
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          'x-api-key': job.apiKey,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          try {
            resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) });
          } catch (error) {
            reject(error as Error);
          }
        });
        response.on('error', reject);
      },
    );
    sent.on('error', reject);
    sent.end(body);
  });
}

async function runPipeline(job: ClientsJob, key: string): Promise<Outcome> {
  const started = performance.now();
  const sentAt = Date.now();
  const response = await api(job, '/v1/pipelines', JSON.stringify({ key }));
  if (response.status !== 202)
    return { status: `start answered ${response.status}`, observedMs: 0, executionMs: 0 };
  const { executionId } = response.body as { executionId: string };
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, job.pollEveryMs));
    const polled = await api(job, `/v1/pipelines/${encodeURIComponent(executionId)}`);
    const body = polled.body as {
      status?: string;
      startedAt?: string;
      stoppedAt?: string;
      steps?: { name: string; startedAt?: string; endedAt?: string }[];
    };
    if (polled.status >= 500)
      return { status: `poll answered ${polled.status}`, observedMs: 0, executionMs: 0 };
    if (body.status && body.status !== 'RUNNING') {
      const stepMs: Record<string, number> = {};
      for (const step of body.steps ?? []) {
        if (step.startedAt && step.endedAt)
          stepMs[step.name] = Date.parse(step.endedAt) - Date.parse(step.startedAt);
      }
      return {
        status: body.status,
        executionId,
        observedMs: performance.now() - started,
        executionMs: Date.parse(body.stoppedAt ?? '') - Date.parse(body.startedAt ?? ''),
        startDelayMs: Date.parse(body.startedAt ?? '') - sentAt,
        seenAfterMs: Date.now() - Date.parse(body.stoppedAt ?? ''),
        stepMs,
      };
    }
    if (performance.now() - started > job.lostAfterMs)
      return { status: 'LOST', observedMs: 0, executionMs: 0 };
  }
}

if (!isMainThread && parentPort) {
  const job = workerData as ClientsJob;
  const outcomes = await Promise.all(
    job.keysByClient.map(async (keys) => {
      const mine: Outcome[] = [];
      for (const key of keys) mine.push(await runPipeline(job, key));
      return mine;
    }),
  );
  parentPort.postMessage(outcomes.flat());
  agent.destroy();
}
