import { Worker } from 'node:worker_threads';

// The main thread's handle on the inference worker (inference-worker.ts): one onnxruntime session, built once,
// fed one request at a time in arrival order.

export interface TensorInfo {
  name: string;
  type: string;
  /** Numbers for fixed dimensions, names (or -1) for symbolic ones such as the batch size. */
  shape: (number | string)[];
}

export type WorkerRequest = {
  id: number;
  inputName: string;
  outputName: string;
  data: Float32Array;
  dims: number[];
};

export type WorkerReply =
  | { type: 'ready'; inputs: TensorInfo[]; outputs: TensorInfo[] }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; data: Float32Array; dims: number[] }
  | { type: 'error'; id: number; message: string };

export interface InferenceSession {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** Runs the model on one tensor; the tensor's buffer is handed to the worker (not copied, not reusable). */
  run(inputName: string, outputName: string, data: Float32Array, dims: number[]): Promise<Float32Array>;
  /** False once the worker has died: the server then answers /ping with 503. */
  readonly alive: boolean;
  close(): Promise<void>;
}

export async function startInferenceSession(modelPath: string): Promise<InferenceSession> {
  const worker = new Worker(new URL('./inference-worker.ts', import.meta.url), { workerData: { modelPath } });
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
    run(inputName, outputName, data, dims) {
      if (!alive) return Promise.reject(new Error('inference worker is not running'));
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, inputName, outputName, data, dims } satisfies WorkerRequest, [
          data.buffer as ArrayBuffer,
        ]);
      });
    },
    async close() {
      closing = true;
      await worker.terminate();
    },
  };
}
