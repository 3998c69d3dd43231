import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { TensorInfo, WorkerReply, WorkerRequest } from './inference.ts';

// The onnxruntime session lives on this thread: onnxruntime-node's `session.run` computes synchronously on the
// thread that calls it (its promise only defers the start), so on the main thread every inference would stall
// /ping and every other request for its whole duration.

const port = parentPort!;
const { modelPath } = workerData as { modelPath: string };

function describe(metadata: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] {
  return metadata.map((value) =>
    value.isTensor
      ? { name: value.name, type: value.type, shape: [...value.shape] }
      : { name: value.name, type: 'non-tensor', shape: [] },
  );
}

let session: ort.InferenceSession;
try {
  session = await ort.InferenceSession.create(modelPath, {
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
} catch (error) {
  port.postMessage({ type: 'failed', message: (error as Error).message } satisfies WorkerReply);
  process.exit(1);
}
port.postMessage({
  type: 'ready',
  inputs: describe(session.inputMetadata),
  outputs: describe(session.outputMetadata),
} satisfies WorkerReply);

port.on('message', async (request: WorkerRequest) => {
  try {
    const feeds = { [request.inputName]: new ort.Tensor('float32', request.data, request.dims) };
    const results = await session.run(feeds, [request.outputName]);
    const output = results[request.outputName]!;
    const data = output.data as Float32Array;
    port.postMessage({ type: 'result', id: request.id, data, dims: [...output.dims] } satisfies WorkerReply, [
      data.buffer as ArrayBuffer,
    ]);
  } catch (error) {
    port.postMessage({
      type: 'error',
      id: request.id,
      message: (error as Error).message,
    } satisfies WorkerReply);
  }
});
