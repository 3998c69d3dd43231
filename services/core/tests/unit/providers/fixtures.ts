import { readFileSync } from 'node:fs';
import { fixtureImagePath, type FixtureImage } from '@mc-vision/assets';
import type { ImageInput } from '../../../src/index.ts';

export function fixtureImage(name: FixtureImage): ImageInput {
  return { bytes: new Uint8Array(readFileSync(fixtureImagePath(name))), contentType: 'image/jpeg' };
}

/** 500 × 375 JPEG. */
export const pelican = fixtureImage('pelican.jpeg');
