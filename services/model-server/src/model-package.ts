import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { z } from 'zod';
import { ModelPackageError } from './errors.ts';
import { MANIFEST_FILE, labelsSchema, modelManifestSchema } from './manifest.ts';
import type { ModelManifest } from './manifest.ts';

export interface ModelPackage {
  dir: string;
  manifest: ModelManifest;
  /** Absolute path of the verified ONNX file. */
  modelPath: string;
  /** Class names in the model's output order. */
  labels: readonly string[];
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/**
 * Reads and checks a model package folder: the manifest against its schema, the model file against the
 * manifest's sha256, the labels file. Throws ModelPackageError saying what is wrong; never serves a guess.
 */
export async function loadModelPackage(dir: string): Promise<ModelPackage> {
  const root = resolve(dir);
  const manifest = parse(
    modelManifestSchema,
    await readJson(join(root, MANIFEST_FILE)),
    `${root}/${MANIFEST_FILE}`,
  );
  const modelPath = join(root, manifest.file);

  const actual = await sha256File(modelPath).catch((error: unknown) => {
    throw new ModelPackageError(`cannot read model file ${modelPath}: ${(error as Error).message}`);
  });
  if (actual !== manifest.sha256) {
    throw new ModelPackageError(
      `checksum mismatch for ${modelPath}: manifest says sha256 ${manifest.sha256}, file has ${actual}; ` +
        'refusing to load a model that is not the one the manifest describes',
    );
  }

  const labels = parse(
    labelsSchema,
    await readJson(join(root, manifest.labels)),
    join(root, manifest.labels),
  );
  return { dir: root, manifest, modelPath, labels };
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ModelPackageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelPackageError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new ModelPackageError(`invalid ${where}: ${problems.join('; ')}`);
  }
  return parsed.data;
}
