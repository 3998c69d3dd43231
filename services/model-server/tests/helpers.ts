import { afterAll } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureImagesDir, testModelDir } from '@mc-vision/assets';

/** The real model the tests run: MODEL_DIR, else darknet-tiny from the shared material. */
export const modelDir = testModelDir;

const imagesDir = fixtureImagesDir;
export const pelican = readFileSync(join(imagesDir, 'pelican.jpeg'));
export const baldEagle = readFileSync(join(imagesDir, 'bald-eagle.jpeg'));

const tempDirs: string[] = [];
afterAll(() => Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** A fresh folder, removed after the test file. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'model-server-test-'));
  tempDirs.push(dir);
  return dir;
}

/** A writable copy of the real model package, to break on purpose. */
export async function copyOfModelPackage(): Promise<string> {
  const dir = join(await tempDir(), 'package');
  await cp(modelDir, dir, { recursive: true });
  return dir;
}

export async function postImage(url: string, body: Uint8Array, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'image/jpeg', ...headers },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
