import { readFileSync } from 'node:fs';
import type { ImageInput } from '../../../src/index.ts';
import { fixtureImagePath } from '../../../../../scripts/shared-material.ts';

export function fixtureImage(name: string): ImageInput {
  return { bytes: new Uint8Array(readFileSync(fixtureImagePath(name))), contentType: 'image/jpeg' };
}

/** 500 × 375 JPEG. */
export const pelican = fixtureImage('pelican.jpeg');
