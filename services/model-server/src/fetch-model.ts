import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { MANIFEST_FILE, labelsSchema, modelManifestSchema } from './manifest.ts';
import type { ModelManifest } from './manifest.ts';
import { loadModelPackage } from './model-package.ts';

/** A model to download and the package to write around it. The manifest's sha256 pins the file. */
export interface ModelDownload {
  url: string;
  /** Exact size of the file, checked before and after the download. */
  bytes: number;
  manifest: ModelManifest;
  labels: readonly string[];
}

/** The cloud default: ResNet-18 v1-7 from the ONNX model zoo (Apache-2.0), facts in README.md ("ResNet-18"). */
export const resnet18: ModelDownload = {
  url: 'https://huggingface.co/onnxmodelzoo/resnet18-v1-7/resolve/main/resnet18-v1-7.onnx',
  bytes: 46_820_737,
  manifest: modelManifestSchema.parse({
    name: 'resnet18-v1-7',
    task: 'image-classification',
    format: 'onnx',
    file: 'model.onnx',
    sha256: '4e8f8653e7a2222b3904cc3fe8e304cd8b339ce1d05fd24688162f86fb6df52c',
    // The zoo's imagenet_preprocess.py: shorter side 256 (bilinear), center crop 224, /255, ImageNet mean/std.
    input: {
      name: 'data',
      layout: 'NCHW',
      width: 224,
      height: 224,
      colorSpace: 'RGB',
      resize: 'shorter-side',
      shorterSide: 256,
      scale: 1 / 255,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    },
    output: { name: 'resnetv15_dense0_fwd', activation: 'softmax' },
    labels: 'labels.json',
    license: 'Apache-2.0 (ONNX Model Zoo)',
    source: 'https://huggingface.co/onnxmodelzoo/resnet18-v1-7',
  }),
  // ILSVRC-2012 class order (torchvision's), the order of the model's 1000 outputs.
  labels: labelsSchema.parse(
    JSON.parse(readFileSync(new URL('./imagenet-labels.json', import.meta.url), 'utf8')),
  ),
};

export interface FetchModelOptions {
  /** The package folder to create. */
  outDir: string;
  /** Download from here instead of `download.url` (a mirror). */
  url?: string;
  /** Replace a package that is already there. */
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (received: number, total: number) => void;
}

export interface FetchModelResult {
  dir: string;
  /** `present`: a verified copy was already there and nothing was downloaded. */
  status: 'downloaded' | 'present';
}

/**
 * Downloads the model into a temporary folder next to `outDir`, verifies size and sha256, writes manifest and
 * labels, checks the result loads as a model package, and only then renames it into place. Any failure (HTTP
 * error, dropped connection, checksum mismatch, abort) removes the temporary folder: `outDir` is either the
 * complete package or untouched.
 */
export async function fetchModelPackage(
  download: ModelDownload,
  options: FetchModelOptions,
): Promise<FetchModelResult> {
  const outDir = resolve(options.outDir);
  const parent = dirname(outDir);
  const partialPrefix = `.${basename(outDir)}.partial-`;
  await mkdir(parent, { recursive: true });

  if (existsSync(outDir) && !options.force) {
    const existing = await loadModelPackage(outDir).catch((error: unknown) => error as Error);
    if (!(existing instanceof Error) && existing.manifest.sha256 === download.manifest.sha256) {
      return { dir: outDir, status: 'present' };
    }
    const why = existing instanceof Error ? existing.message : `it holds sha256 ${existing.manifest.sha256}`;
    throw new Error(`${outDir} already exists and is not this model (${why}); use --force to replace it`);
  }

  // Left behind only by a process killed outright (SIGKILL, power loss): never a package, safe to remove.
  for (const entry of await readdir(parent)) {
    if (entry.startsWith(partialPrefix)) await rm(join(parent, entry), { recursive: true, force: true });
  }

  const partial = await mkdtemp(join(parent, partialPrefix));
  try {
    await downloadVerified(
      options.url ?? download.url,
      join(partial, download.manifest.file),
      download,
      options,
    );
    await writeFile(join(partial, download.manifest.labels), `${JSON.stringify(download.labels, null, 2)}\n`);
    await writeFile(join(partial, MANIFEST_FILE), `${JSON.stringify(download.manifest, null, 2)}\n`);
    await loadModelPackage(partial);

    if (existsSync(outDir)) {
      const previous = `${partial}-previous`;
      await rename(outDir, previous);
      await rename(partial, outDir);
      await rm(previous, { recursive: true, force: true });
    } else {
      await rename(partial, outDir);
    }
    return { dir: outDir, status: 'downloaded' };
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
}

async function downloadVerified(
  url: string,
  file: string,
  download: ModelDownload,
  options: FetchModelOptions,
) {
  const expected = download.bytes;
  // fetch follows redirects (Hugging Face answers with a redirect to its CDN).
  const response = await fetch(url, { signal: options.signal, redirect: 'follow' });
  if (!response.ok || !response.body) {
    throw new Error(`download failed: ${url} answered HTTP ${response.status} ${response.statusText}`);
  }
  const declared = response.headers.get('content-length');
  if (declared !== null && Number(declared) !== expected) {
    await response.body.cancel();
    throw new Error(`download refused: ${url} is ${declared} bytes, expected ${expected}`);
  }

  const hash = createHash('sha256');
  let received = 0;
  options.onProgress?.(0, expected);
  try {
    await pipeline(
      Readable.fromWeb(response.body as ReadableStream<Uint8Array>),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          received += chunk.length;
          if (received > expected) throw new Error(`more than the expected ${expected} bytes`);
          hash.update(chunk);
          options.onProgress?.(received, expected);
          yield chunk;
        }
      },
      createWriteStream(file, { flags: 'wx' }),
    );
  } catch (error) {
    const reason = error instanceof Error ? describeNetworkError(error) : String(error);
    throw new Error(`download interrupted after ${received} of ${expected} bytes: ${reason}`, {
      cause: error,
    });
  }
  if (received !== expected) {
    throw new Error(`download incomplete: received ${received} of ${expected} bytes`);
  }
  const actual = hash.digest('hex');
  if (actual !== download.manifest.sha256) {
    throw new Error(
      `checksum mismatch: ${url} has sha256 ${actual}, expected ${download.manifest.sha256}; nothing was written`,
    );
  }
}

/** undici reports a dropped connection as "terminated" with the socket error as its cause. */
function describeNetworkError(error: Error): string {
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}
