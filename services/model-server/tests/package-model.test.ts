import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extract, list } from 'tar';
import { createClassifier } from '../src/classifier.ts';
import { loadModelPackage } from '../src/model-package.ts';
import { packageModel } from '../src/package-model.ts';
import { copyOfModelPackage, modelDir, pelican, tempDir } from './helpers.ts';

async function entriesOf(file: string): Promise<string[]> {
  const entries: string[] = [];
  await list({ file, onReadEntry: (entry) => entries.push(entry.path) });
  return entries;
}

describe('packageModel', () => {
  it('writes a model.tar.gz with the package files at its root that loads and classifies once unpacked', async () => {
    const work = await tempDir();
    const archive = await packageModel(modelDir, join(work, 'model.tar.gz'));
    expect(archive.file).toBe(join(work, 'model.tar.gz'));
    const bytes = await readFile(archive.file);
    expect(archive.bytes).toBe(bytes.byteLength);
    expect(archive.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect((await entriesOf(archive.file)).sort()).toEqual(['labels.json', 'manifest.json', 'model.onnx']);
    expect(await readdir(work)).toEqual(['model.tar.gz']);

    // As SageMaker does: unpack into the model folder, load from there.
    const unpacked = join(work, 'opt-ml-model');
    await mkdir(unpacked);
    await extract({ file: archive.file, cwd: unpacked });
    const classifier = await createClassifier(await loadModelPackage(unpacked));
    try {
      expect((await classifier.classify(pelican)).labels[0]?.label).toBe('pelican');
    } finally {
      await classifier.close();
    }
  });

  it('gives the same bytes for the same package', async () => {
    const work = await tempDir();
    const first = await packageModel(modelDir, join(work, 'a.tar.gz'));
    const second = await packageModel(modelDir, join(work, 'b.tar.gz'));
    expect(second.sha256).toBe(first.sha256);
  });

  it('refuses a package that does not verify, writing nothing', async () => {
    const dir = await copyOfModelPackage();
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, sha256: 'a'.repeat(64) }));
    const work = await tempDir();
    await expect(packageModel(dir, join(work, 'model.tar.gz'))).rejects.toThrow(/checksum mismatch/);
    expect(existsSync(join(work, 'model.tar.gz'))).toBe(false);
  });
});

describe('pnpm model:package (src/cli/package.ts)', () => {
  it('packages the folder it is given into the file it is told', async () => {
    const work = await tempDir();
    const cli = fileURLToPath(new URL('../src/cli/package.ts', import.meta.url));
    const child = spawn(process.execPath, [cli, modelDir, '--out', 'out/model.tar.gz'], {
      cwd: work,
      env: { ...process.env, INIT_CWD: work },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
    expect(stdout).toContain(join(work, 'out', 'model.tar.gz'));
    expect(stdout).toContain('manifest.json, model.onnx, labels.json');
    expect((await entriesOf(join(work, 'out', 'model.tar.gz'))).sort()).toEqual([
      'labels.json',
      'manifest.json',
      'model.onnx',
    ]);
  });
});
