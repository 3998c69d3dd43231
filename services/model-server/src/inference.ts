import { Worker } from 'node:worker_threads';
import type { InferenceSession as OrtSession } from 'onnxruntime-node';
import { ImageRejectedError, type ImageRejection } from './errors.ts';
import type { ModelInput } from './manifest.ts';

// The main thread's handle on the inference worker (inference-worker.ts): one onnxruntime session, built once,
// fed one image at a time in arrival order. The worker decodes and preprocesses the image too, so the main
// thread only reads requests and writes answers.

export interface TensorInfo {
  name: string;
  type: string;
  /** Numbers for fixed dimensions, names (or -1) for symbolic ones such as the batch size. */
  shape: (number | string)[];
}

/**
 * How every session is built (the benchmark's bare baseline uses the same). onnxruntime's thread pool spins
 * by default, busy-waiting for the next run after each one: measured here, 34 ms of CPU per 7 ms run of
 * darknet-tiny, taken from every other thread on the machine (a local cloud's event loop, other requests).
 * Without spinning a run costs 14 ms of CPU and 1 ms more of wall time.
 */
export const sessionOptions: OrtSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};

/** What the worker is started with: the model, and how images become its input. */
export interface WorkerSetup {
  modelPath: string;
  input: ModelInput;
  outputName: string;
  maxImagePixels: number;
}

export type WorkerRequest = { id: number; bytes: Uint8Array };

export type WorkerReply =
  | { type: 'ready'; inputs: TensorInfo[]; outputs: TensorInfo[] }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; data: Float32Array; dims: number[] }
  | { type: 'rejected'; id: number; rejection: ImageRejection; message: string }
  | { type: 'error'; id: number; message: string };

export interface InferenceSession {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /**
   * Decodes and preprocesses one encoded image and runs the model on it: the model's output. Throws
   * ImageRejectedError for an image it cannot take.
   */
  infer(bytes: Uint8Array): Promise<Float32Array>;
  /** False once the worker has died: the server then answers /ping with 503. */
  readonly alive: boolean;
  close(): Promise<void>;
}

export async function startInferenceSession(setup: WorkerSetup): Promise<InferenceSession> {
  const { modelPath } = setup;
  const worker = new Worker(new URL('./inference-worker.ts', import.meta.url), { workerData: setup });
  const pending = new Map<
    number,
    { resolve: (data: Float32Array) => void; reject: (error: Error) => void }
  >();
  let nextId = 0;
  let alive = true;
  let closing = false;

  const ready = new Promise<{ inputs: TensorInfo[]; outputs: TensorInfo[] }>((resolve, reject) => {
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'ready') resolve(reply);
      else if (reply.type === 'failed')
        reject(new Error(`onnxruntime cannot load ${modelPath}: ${reply.message}`));
      else {
        const request = pending.get(reply.id);
        pending.delete(reply.id);
        if (reply.type === 'result') request?.resolve(reply.data);
        else if (reply.type === 'rejected')
          request?.reject(new ImageRejectedError(reply.rejection, reply.message));
        else request?.reject(new Error(`inference failed: ${reply.message}`));
      }
    });
    const stopped = (error: Error) => {
      alive = false;
      reject(error);
      for (const request of pending.values()) request.reject(error);
      pending.clear();
    };
    worker.on('error', (error) => stopped(new Error(`inference worker crashed: ${error.message}`)));
    worker.on('exit', (code) =>
      stopped(new Error(closing ? 'inference session closed' : `inference worker exited (${code})`)),
    );
  });

  const { inputs, outputs } = await ready.catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });

  return {
    inputs,
    outputs,
    get alive() {
      return alive;
    },
    infer(bytes) {
      if (!alive) return Promise.reject(new Error('inference worker is not running'));
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        // A copy of exactly these bytes, handed over: the caller's buffer may be a slice of a shared pool.
        const copy = new Uint8Array(bytes);
        worker.postMessage({ id, bytes: copy } satisfies WorkerRequest, [copy.buffer]);
      });
    },
    async close() {
      closing = true;
      await worker.terminate();
    },
  };
}
