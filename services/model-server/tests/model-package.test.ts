import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createClassifier } from '../src/classifier.ts';
import { ModelPackageError } from '../src/errors.ts';
import { loadModelPackage } from '../src/model-package.ts';
import { copyOfModelPackage, modelDir, pelican } from './helpers.ts';

type EditableManifest = Record<string, unknown> & {
  input: Record<string, unknown>;
  output: Record<string, unknown>;
};

async function editManifest(dir: string, edit: (manifest: EditableManifest) => void) {
  const path = join(dir, 'manifest.json');
  const manifest = JSON.parse(await readFile(path, 'utf8'));
  edit(manifest);
  await writeFile(path, JSON.stringify(manifest));
}

describe('loadModelPackage', () => {
  it('loads the real package: manifest, verified model file, labels in output order', async () => {
    const pkg = await loadModelPackage(modelDir);
    expect(pkg.manifest.format).toBe('onnx');
    expect(pkg.modelPath).toBe(join(modelDir, pkg.manifest.file));
    expect(pkg.labels).toHaveLength(1000);
    expect(pkg.labels).toContain('pelican');
  });

  it('refuses a model file whose sha256 is not the manifest’s', async () => {
    const dir = await copyOfModelPackage();
    const modelFile = join(dir, (await loadModelPackage(dir)).manifest.file);
    const bytes = await readFile(modelFile);
    bytes[bytes.length - 1]! ^= 0xff;
    await writeFile(modelFile, bytes);
    const error = await loadModelPackage(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelPackageError);
    expect((error as Error).message).toMatch(
      /checksum mismatch for .*model\.onnx: manifest says sha256 [0-9a-f]{64}, file has [0-9a-f]{64}/,
    );
  });

  it('refuses a manifest whose pinned sha256 was changed', async () => {
    const dir = await copyOfModelPackage();
    await editManifest(dir, (manifest) => (manifest.sha256 = '0'.repeat(64)));
    await expect(loadModelPackage(dir)).rejects.toThrow(/checksum mismatch/);
  });

  it('names every invalid manifest field', async () => {
    const dir = await copyOfModelPackage();
    await editManifest(dir, (manifest) => {
      manifest.input.layout = 'CHW';
      delete manifest.input.mean;
      manifest.file = '../../etc/passwd';
    });
    const message = await loadModelPackage(dir).then(
      () => '',
      (error: Error) => error.message,
    );
    expect(message).toMatch(/invalid .*manifest\.json/);
    expect(message).toMatch(/input\.layout/);
    expect(message).toMatch(/input\.mean/);
    expect(message).toMatch(/file: must be a plain file name/);
  });

  it('requires the crop to fit for shorter-side resizing', async () => {
    const dir = await copyOfModelPackage();
    await editManifest(dir, (manifest) =>
      Object.assign(manifest.input, { resize: 'shorter-side', shorterSide: 200 }),
    );
    await expect(loadModelPackage(dir)).rejects.toThrow(/shorterSide must be at least width and height/);
  });

  it('says so when a file is missing or not JSON', async () => {
    await expect(loadModelPackage('/nonexistent/model')).rejects.toThrow(
      /cannot read \/nonexistent\/model\/manifest\.json/,
    );
    const dir = await copyOfModelPackage();
    await writeFile(join(dir, 'labels.json'), '["tench", ');
    await expect(loadModelPackage(dir)).rejects.toThrow(/labels\.json is not valid JSON/);
  });
});

describe('createClassifier', () => {
  it('classifies image bytes in process', async () => {
    const classifier = await createClassifier(await loadModelPackage(modelDir), { defaultTopK: 3 });
    try {
      const answer = await classifier.classify(pelican);
      expect(answer.labels).toHaveLength(3);
      expect(answer.labels[0]?.label).toBe('pelican');
      expect(answer.labels.reduce((sum, entry) => sum + entry.score, 0)).toBeLessThanOrEqual(1.000001);
      await expect(classifier.classify(pelican.subarray(0, 100))).rejects.toMatchObject({ status: 422 });
    } finally {
      await classifier.close();
    }
  });

  it('refuses labels that do not match the model’s outputs', async () => {
    const dir = await copyOfModelPackage();
    const labels = JSON.parse(await readFile(join(dir, 'labels.json'), 'utf8')) as string[];
    await writeFile(join(dir, 'labels.json'), JSON.stringify(labels.slice(1)));
    await expect(createClassifier(await loadModelPackage(dir))).rejects.toThrow(
      /the model scores 1000 classes but the labels file has 999 labels/,
    );
  });

  it('refuses a manifest naming an input or output the model does not have, or the wrong size', async () => {
    const dir = await copyOfModelPackage();
    await editManifest(dir, (manifest) => (manifest.input.name = 'pixels'));
    await expect(createClassifier(await loadModelPackage(dir))).rejects.toThrow(
      /manifest input 'pixels' is not a model input/,
    );

    await editManifest(dir, (manifest) =>
      Object.assign(manifest.input, { name: 'input', width: 256, height: 256 }),
    );
    await expect(createClassifier(await loadModelPackage(dir))).rejects.toThrow(
      /the manifest feeds float32 \[1,3,256,256\]/,
    );

    await editManifest(dir, (manifest) => {
      Object.assign(manifest.input, { width: 224, height: 224 });
      manifest.output.name = 'probabilities';
    });
    await expect(createClassifier(await loadModelPackage(dir))).rejects.toThrow(
      /manifest output 'probabilities'/,
    );
  });

  it('refuses a model file onnxruntime cannot load', async () => {
    const dir = await copyOfModelPackage();
    const garbage = Buffer.from('this is not an ONNX graph');
    await writeFile(join(dir, 'model.onnx'), garbage);
    await editManifest(
      dir,
      (manifest) => (manifest.sha256 = createHash('sha256').update(garbage).digest('hex')),
    );
    await expect(createClassifier(await loadModelPackage(dir))).rejects.toThrow(/onnxruntime cannot load/);
  });
});
