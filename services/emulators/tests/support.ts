import { afterAll } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ClassifierResponse } from '@mc-vision/core';
import type { ClassifyImage } from '../src/index.ts';
import { fixtureImagesDir } from '@mc-vision/assets';

const imagesDir = fixtureImagesDir;

export const pelicanJpeg = readFileSync(join(imagesDir, 'pelican.jpeg'));

const tempDirs: string[] = [];
afterAll(() => Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** A fresh folder, removed after the test file. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'emulators-test-'));
  tempDirs.push(dir);
  return dir;
}

/** A solid-colour PNG of the given size, generated here. */
export function solidPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 40, g: 120, b: 200 } } })
    .png()
    .toBuffer();
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A stand-in classifier for the servers' unit tests: answers fixed labels and records what it was sent, so a test
 * can check the emulator classified the image it received (bytes and content type), not the prompt.
 */
export function fakeClassifier(response: ClassifierResponse = pelicanLabels): ClassifyImage & {
  calls: { sha256: string; contentType: string }[];
} {
  const calls: { sha256: string; contentType: string }[] = [];
  const classify = async (bytes: Uint8Array, contentType: string) => {
    calls.push({ sha256: sha256(bytes), contentType });
    return response;
  };
  return Object.assign(classify, { calls });
}

export const pelicanLabels: ClassifierResponse = {
  model: 'fake-classifier',
  labels: [
    { label: 'pelican', score: 0.91 },
    { label: 'goose', score: 0.05 },
    { label: 'spoonbill', score: 0.02 },
  ],
};

/** Polls `check` until it returns a value (not undefined), failing after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Sends `path` as the request target exactly as written (fetch would normalize it), answering status and body. */
export function rawRequest(baseUrl: string, path: string): Promise<{ status: number; body: unknown }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'POST' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    req.end('{}');
  });
}
