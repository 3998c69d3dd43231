import { bundledModelDir } from '@mc-vision/assets';
import type { ClassifierResponse } from '@mc-vision/core';
import {
  createModelServer,
  fetchModelPackage,
  MANIFEST_FILE,
  resnet18,
  startModelServer,
  type LogEvent,
  type ModelDownload,
} from '@mc-vision/model-server';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { basename, join } from 'node:path';
import { guardServer, notTheOwners } from './guard.ts';
import type { Log } from './log.ts';
import { listen, stopServer, type Component } from './server.ts';

// The classifier: MODEL_DIR if set; else the default model folder (what `pnpm model:fetch` writes); else the
// download runs now; and when that cannot be had (offline), the small model the repository carries, so a plain
// clone works anywhere. Only a MODEL_DIR that cannot be loaded leaves the platform without a classifier: it
// still starts, the model server answers /ping with 503 and the reason, SageMaker calls fail with
// ModelNotReadyException (ProviderUnavailable), and the LLM emulators, which describe images from the
// classifier's labels, fail too — every result says why.

export interface ModelChoice {
  dir: string;
  origin: 'MODEL_DIR' | 'default' | 'downloaded' | 'bundled';
}

export interface ResolveModelOptions {
  /** MODEL_DIR (absolute), when the user set it. */
  modelDir?: string;
  /** The project's default model folder (`models/resnet18-v1-7`). */
  defaultDir: string;
  /** The model served when the default cannot be had (default: darknet-tiny from `@mc-vision/assets`). */
  bundledDir?: string;
  /** What to download when neither is there (default ResNet-18; tests pass a local URL). */
  download?: ModelDownload;
  /** Give up when the download makes no progress for this long (default 20 s): offline must not hang. */
  stallTimeoutMs?: number;
  log: Log;
}

export async function resolveModel(options: ResolveModelOptions): Promise<ModelChoice> {
  const { log } = options;
  if (options.modelDir) return { dir: options.modelDir, origin: 'MODEL_DIR' };
  if (existsSync(join(options.defaultDir, MANIFEST_FILE)))
    return { dir: options.defaultDir, origin: 'default' };

  const download = options.download ?? resnet18;
  const stallTimeoutMs = options.stallTimeoutMs ?? 20_000;
  log({
    component: 'model',
    level: 'info',
    message: `no model yet: downloading ${download.manifest.name} (${mb(download.bytes)} MB, once)`,
    url: download.url,
  });
  const abort = new AbortController();
  let stalled: NodeJS.Timeout | undefined;
  const watch = () => {
    clearTimeout(stalled);
    stalled = setTimeout(
      () => abort.abort(new Error(`no progress for ${stallTimeoutMs / 1000} s`)),
      stallTimeoutMs,
    );
  };
  let lastReport = 0;
  watch();
  try {
    const result = await fetchModelPackage(download, {
      outDir: options.defaultDir,
      signal: abort.signal,
      onProgress(received, total) {
        watch();
        if (Date.now() - lastReport < 2_000 && received < total) return;
        lastReport = Date.now();
        const percent = Math.floor((received / total) * 100);
        log({
          component: 'model',
          level: 'info',
          message: `downloading ${mb(received)}/${mb(total)} MB (${percent}%)`,
        });
      },
    });
    return { dir: result.dir, origin: 'downloaded' };
  } catch (error) {
    const reason = errorText(abort.signal.aborted ? abort.signal.reason : error);
    const bundledDir = options.bundledDir ?? bundledModelDir;
    log({
      component: 'model',
      level: 'warn',
      message:
        `${download.manifest.name} could not be downloaded (${reason}): serving the bundled ` +
        `${basename(bundledDir)} instead; for ${download.manifest.name}, run \`pnpm model:fetch\` or set MODEL_DIR`,
    });
    return { dir: bundledDir, origin: 'bundled' };
  } finally {
    clearTimeout(stalled);
  }
}

export interface LocalClassifier extends Component {
  /** The model's name, or undefined when there is none. */
  model: string | undefined;
  /** Why there is no model, when there is none. */
  unavailable: string | undefined;
  /** Classifies raw image bytes in-process (what the LLM emulators describe images from). */
  classify(bytes: Uint8Array): Promise<ClassifierResponse>;
}

export interface ClassifierLimits {
  maxImageBytes: number;
  maxImagePixels: number;
  defaultTopK: number;
  /** The SageMaker endpoint name the runtime path answers for (`SAGEMAKER_ENDPOINT_NAME`). */
  endpointName: string;
}

/** The model server (SageMaker's container and runtime contract) for `choice`, on loopback. */
export async function startClassifier(
  choice: ModelChoice,
  limits: ClassifierLimits,
  log: Log,
  /** `sagemaker` when it is the SageMaker endpoint, `classifier` when it only serves the LLM emulators. */
  name: 'sagemaker' | 'classifier' = 'sagemaker',
  /** The server's events (one `invocation` per InvokeEndpoint), for the SageMaker metrics. */
  onEvent?: (event: LogEvent) => void,
): Promise<LocalClassifier> {
  let reason: string;
  try {
    // Called only once the server is up.
    const answers = answersByImage((bytes) => server.classifier.classify(bytes));
    const server = await startModelServer({
      modelDir: choice.dir,
      port: 0,
      host: '127.0.0.1',
      ...limits,
      beforeListen: ownerOnly,
      // What SageMaker's callers were told is what the LLM emulators describe the same image from.
      answered: (image, topK, answer) => {
        if (topK === limits.defaultTopK) answers.remember(image, answer);
      },
      ...(onEvent ? { log: onEvent } : {}),
    });
    return {
      name,
      description: `model server (${server.classifier.model})`,
      url: server.url,
      model: server.classifier.model,
      unavailable: undefined,
      classify: (bytes) => answers.classify(bytes),
      close: () => server.close(),
    };
  } catch (error) {
    reason = `the model in ${choice.dir} cannot be loaded: ${errorText(error)}`;
  }

  log({ component: 'model', level: 'warn', message: `the classifier is unavailable: ${reason}` });
  // The same server with a model that never loads: it tells every caller why, in SageMaker's own terms.
  const failed = Promise.reject(new Error(reason));
  const server = createModelServer({
    classifier: failed,
    maxImageBytes: limits.maxImageBytes,
    ...(onEvent ? { log: onEvent } : {}),
    endpointName: limits.endpointName,
  });
  ownerOnly(server);
  await listen(server, 0, '127.0.0.1');
  const { port } = server.address() as { port: number };
  return {
    name,
    description: 'model server without a model (every call fails, saying why)',
    url: `http://127.0.0.1:${port}`,
    model: undefined,
    unavailable: reason,
    classify: async () => {
      throw new Error(`the classifier is unavailable: ${reason}`);
    },
    close: () => stopServer(server),
  };
}

/** Distinct images whose classification is kept. */
const keptAnswers = 64;

/** Classifications by image bytes, for the LLM emulators. */
export interface ImageAnswers {
  /** The answer for these bytes: one kept, one in flight, or a new classification. */
  classify: (bytes: Uint8Array) => Promise<ClassifierResponse>;
  /** Keeps an answer the model server gave for these bytes (with the default number of labels). */
  remember: (bytes: Uint8Array, answer: ClassifierResponse) => void;
}

/**
 * The model is deterministic, so an image is classified once: the LLM emulators of one pipeline (Bedrock and
 * Azure, in parallel) describe the image its Classify step sent to SageMaker, and reuse that answer; callers
 * arriving while a classification runs wait for it; a failure is not kept. The last `keptAnswers` images
 * are remembered.
 */
export function answersByImage(classify: (bytes: Uint8Array) => Promise<ClassifierResponse>): ImageAnswers {
  const answers = new Map<string, Promise<ClassifierResponse>>();
  const keyOf = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64');
  const keep = (key: string, answer: Promise<ClassifierResponse>) => {
    answers.delete(key); // most recently used last
    answers.set(key, answer);
    if (answers.size > keptAnswers) answers.delete(answers.keys().next().value!);
    return answer;
  };
  return {
    classify: (bytes) => {
      const key = keyOf(bytes);
      const kept = answers.get(key);
      if (kept) return keep(key, kept);
      const answer = classify(bytes);
      answer.catch(() => {
        if (answers.get(key) === answer) answers.delete(key);
      });
      return keep(key, answer);
    },
    remember: (bytes, answer) => {
      keep(keyOf(bytes), Promise.resolve(answer));
    },
  };
}

/**
 * Only the owner's requests (loopback Host, no foreign Origin), refused in the shape of the path asked:
 * SageMaker's runtime (`/endpoints/…`, what the SDK calls) answers AccessDeniedException, the container
 * contract (`/ping`, `/invocations`) the model server's own `{error: {code, message, requestId}}`.
 */
function ownerOnly(server: Server): void {
  guardServer(server, (req, res, pass) => {
    const foreign = notTheOwners(req);
    if (!foreign) return pass(req);
    const runtime = (req.url ?? '').startsWith('/endpoints/');
    const body = JSON.stringify(
      runtime
        ? { message: foreign }
        : { error: { code: 'forbidden', message: foreign, requestId: randomUUID() } },
    );
    res.writeHead(403, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...(runtime ? { 'x-amzn-errortype': 'AccessDeniedException' } : {}),
    });
    res.end(body);
  });
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause : undefined;
  return cause ? `${error.message}: ${cause.message}` : error.message;
}
