import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { ImageRejectedError } from './errors.ts';
import {
  sessionOptions,
  type TensorInfo,
  type WorkerReply,
  type WorkerRequest,
  type WorkerSetup,
} from './inference.ts';
import { preprocessImage } from './preprocess.ts';

// The onnxruntime session lives on this thread: onnxruntime-node's `session.run` computes synchronously on the
// thread that calls it (its promise only defers the start), so on the main thread every inference would stall
// /ping and every other request for its whole duration. The image is decoded and turned into the input tensor
// here too: the pixel loop is JavaScript, and sharp's decode would otherwise answer on the main thread.

const port = parentPort!;
const { modelPath, input, outputName, maxImagePixels } = workerData as WorkerSetup;

function describe(metadata: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] {
  return metadata.map((value) =>
    value.isTensor
      ? { name: value.name, type: value.type, shape: [...value.shape] }
      : { name: value.name, type: 'non-tensor', shape: [] },
  );
}

let session: ort.InferenceSession;
try {
  session = await ort.InferenceSession.create(modelPath, sessionOptions);
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
    const { tensor, dims } = await preprocessImage(request.bytes, input, { maxImagePixels });
    const results = await session.run({ [input.name]: new ort.Tensor('float32', tensor, dims) }, [
      outputName,
    ]);
    const output = results[outputName]!;
    const data = output.data as Float32Array;
    port.postMessage({ type: 'result', id: request.id, data, dims: [...output.dims] } satisfies WorkerReply, [
      data.buffer as ArrayBuffer,
    ]);
  } catch (error) {
    if (error instanceof ImageRejectedError) {
      const rejection = { status: error.status, code: error.code };
      port.postMessage({
        type: 'rejected',
        id: request.id,
        rejection,
        message: error.message,
      } satisfies WorkerReply);
      return;
    }
    port.postMessage({
      type: 'error',
      id: request.id,
      message: (error as Error).message,
    } satisfies WorkerReply);
  }
});
