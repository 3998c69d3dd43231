import type { ClassifierResponse } from '@mc-vision/core/schemas';
import { ImageRejectedError, ModelPackageError, tooLarge } from './errors.ts';
import { startInferenceSession } from './inference.ts';
import type { InferenceSession, TensorInfo } from './inference.ts';
import type { ModelManifest } from './manifest.ts';
import type { ModelPackage } from './model-package.ts';
import { modelServerDefaults } from './config.ts';
import { tensorDims } from './preprocess.ts';

export interface ClassifierOptions {
  maxImageBytes?: number;
  maxImagePixels?: number;
  /** Labels returned when `classify` is not told how many. */
  defaultTopK?: number;
}

export interface ClassifyOptions {
  topK?: number;
}

/** A loaded model: image bytes in, top-k labels out. */
export interface ImageClassifier {
  /** The manifest's name, reported in every answer. */
  readonly model: string;
  readonly labels: readonly string[];
  readonly defaultTopK: number;
  /** False once the inference worker has died. */
  readonly ready: boolean;
  /** Throws ImageRejectedError (413/415/422) for input it cannot classify. */
  classify(bytes: Uint8Array, options?: ClassifyOptions): Promise<ClassifierResponse>;
  close(): Promise<void>;
}

/** Builds the onnxruntime session once (on its own thread) and checks the model matches its manifest. */
export async function createClassifier(
  pkg: ModelPackage,
  options: ClassifierOptions = {},
): Promise<ImageClassifier> {
  const maxImageBytes = options.maxImageBytes ?? modelServerDefaults.MAX_IMAGE_BYTES;
  const maxImagePixels = options.maxImagePixels ?? modelServerDefaults.MAX_IMAGE_PIXELS;
  const defaultTopK = options.defaultTopK ?? modelServerDefaults.CLASSIFIER_TOP_K;
  const { manifest, labels } = pkg;

  const session = await startInferenceSession({
    modelPath: pkg.modelPath,
    input: manifest.input,
    outputName: manifest.output.name,
    maxImagePixels,
  });
  try {
    checkModelAgainstManifest(session, manifest, labels.length);
  } catch (error) {
    await session.close();
    throw error;
  }

  return {
    model: manifest.name,
    labels,
    defaultTopK,
    get ready() {
      return session.alive;
    },
    async classify(bytes, { topK = defaultTopK } = {}) {
      if (bytes.byteLength > maxImageBytes) {
        throw new ImageRejectedError(
          tooLarge,
          `the image is ${bytes.byteLength} bytes; the limit is ${maxImageBytes}`,
        );
      }
      // Decoded, preprocessed and run on the inference worker's thread.
      const output = await session.infer(bytes);
      if (output.length !== labels.length) {
        throw new Error(`the model returned ${output.length} scores for ${labels.length} labels`);
      }
      // Built here from the model's scores, so its type is the check: a schema parse per request would only
      // repeat it (the scores are in 0..1 by construction, see `activate`).
      return {
        model: manifest.name,
        labels: topLabels(activate(output, manifest.output.activation), labels, topK),
      } satisfies ClassifierResponse;
    },
    close: () => session.close(),
  };
}

/** Raw model outputs → scores in 0..1. */
export function activate(
  values: Float32Array,
  activation: ModelManifest['output']['activation'],
): Float64Array {
  const scores = Float64Array.from(values);
  if (activation === 'softmax') {
    const max = scores.reduce((a, b) => Math.max(a, b), -Infinity);
    let sum = 0;
    for (let i = 0; i < scores.length; i++) sum += scores[i] = Math.exp(scores[i]! - max);
    for (let i = 0; i < scores.length; i++) scores[i]! /= sum;
  } else if (activation === 'sigmoid') {
    for (let i = 0; i < scores.length; i++) scores[i] = 1 / (1 + Math.exp(-scores[i]!));
  } else {
    for (let i = 0; i < scores.length; i++) scores[i] = Math.min(1, Math.max(0, scores[i]!));
  }
  return scores;
}

/** The `k` best labels, best first (equal scores in label order), without sorting every score. */
export function topLabels(scores: Float64Array, labels: readonly string[], k: number) {
  const best: number[] = [];
  for (let i = 0; i < scores.length && k > 0; i++) {
    const score = scores[i]!;
    if (best.length === k && score <= scores[best[k - 1]!]!) continue;
    let at = best.length;
    while (at > 0 && scores[best[at - 1]!]! < score) at--;
    best.splice(at, 0, i);
    if (best.length > k) best.pop();
  }
  return best.map((i) => ({ label: labels[i]!, score: scores[i]! }));
}

/** A manifest that does not describe its model fails here, at load, not on the first request. */
function checkModelAgainstManifest(session: InferenceSession, manifest: ModelManifest, labelCount: number) {
  const names = (infos: TensorInfo[]) => infos.map((info) => info.name).join(', ');
  const input = session.inputs.find((info) => info.name === manifest.input.name);
  if (!input) {
    throw new ModelPackageError(
      `manifest input '${manifest.input.name}' is not a model input (${names(session.inputs)})`,
    );
  }
  const expected = tensorDims(manifest.input);
  const fits =
    input.type === 'float32' &&
    input.shape.length === expected.length &&
    input.shape.every((dim, i) => typeof dim !== 'number' || dim < 0 || dim === expected[i]);
  if (!fits) {
    throw new ModelPackageError(
      `model input '${input.name}' is ${input.type} [${input.shape.join(',')}]; the manifest feeds float32 ` +
        `[${expected.join(',')}] (${manifest.input.layout})`,
    );
  }
  const output = session.outputs.find((info) => info.name === manifest.output.name);
  if (!output) {
    throw new ModelPackageError(
      `manifest output '${manifest.output.name}' is not a model output (${names(session.outputs)})`,
    );
  }
  const classes = output.shape.at(-1);
  if (typeof classes === 'number' && classes >= 0 && classes !== labelCount) {
    throw new ModelPackageError(
      `the model scores ${classes} classes but the labels file has ${labelCount} labels`,
    );
  }
}
