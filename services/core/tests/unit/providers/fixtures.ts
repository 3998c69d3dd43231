import { readFileSync } from 'node:fs';
import type { ImageInput } from '../../../src/index.ts';

// Real photos from the shared fixtures folder, which sits next to the repository (`../shared`).
const imagesDir = new URL('../../../../../../shared/fixtures/images/', import.meta.url);

export function fixtureImage(name: string): ImageInput {
  return { bytes: new Uint8Array(readFileSync(new URL(name, imagesDir))), contentType: 'image/jpeg' };
}

/** 500 × 375 JPEG. */
export const pelican = fixtureImage('pelican.jpeg');
