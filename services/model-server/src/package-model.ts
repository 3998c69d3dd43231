import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { create } from 'tar';
import { MANIFEST_FILE } from './manifest.ts';
import { loadModelPackage, sha256File } from './model-package.ts';

export interface PackagedModel {
  file: string;
  bytes: number;
  sha256: string;
  /** Archive entries, all at its root: SageMaker unpacks the archive into /opt/ml/model. */
  entries: string[];
}

/**
 * Verifies a model package and writes it as the `model.tar.gz` SageMaker takes: manifest, model and labels at
 * the archive root, nothing else, with fixed owners and times so the same package gives the same archive.
 */
export async function packageModel(modelDir: string, outFile: string): Promise<PackagedModel> {
  const pkg = await loadModelPackage(modelDir);
  const file = resolve(outFile);
  const entries = [MANIFEST_FILE, pkg.manifest.file, pkg.manifest.labels];
  await mkdir(dirname(file), { recursive: true });

  const partial = `${file}.partial-${process.pid}`;
  try {
    await create({ file: partial, cwd: pkg.dir, gzip: true, portable: true, mtime: new Date(0) }, entries);
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return { file, bytes: (await stat(file)).size, sha256: await sha256File(file), entries };
}
