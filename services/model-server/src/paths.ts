import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is services/model-server/src/paths.ts). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Where `pnpm model:fetch` writes the cloud default (git-ignored). */
export const fetchedModelDir = join(repoRoot, 'models', 'resnet18-v1-7');

/** Where `pnpm model:package` writes the archive by default (git-ignored). */
export const defaultArchivePath = join(repoRoot, 'models', 'model.tar.gz');

/** Where SageMaker unpacks `model.tar.gz` inside the container. */
export const sageMakerModelDir = '/opt/ml/model';

/**
 * A path the user typed, resolved against the directory they ran the command in: pnpm runs package scripts
 * inside the package folder but records the caller's directory in INIT_CWD.
 */
export function resolveUserPath(path: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), path);
}

/**
 * The model package to serve: MODEL_DIR if set; else SageMaker's /opt/ml/model; else the fetched ResNet-18.
 */
export function resolveModelDir(modelDir: string | undefined): string {
  if (modelDir) return resolveUserPath(modelDir);
  const candidate = [sageMakerModelDir, fetchedModelDir].find((dir) =>
    existsSync(join(dir, 'manifest.json')),
  );
  if (!candidate) {
    throw new Error(
      `No model package found in ${sageMakerModelDir} or ${fetchedModelDir}: ` +
        'set MODEL_DIR to a model package folder, or run `pnpm model:fetch`.',
    );
  }
  return candidate;
}
