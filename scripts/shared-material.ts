import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The shared material the tests and benchmarks use, kept next to the repository and never in it: real photos
// (fixtures/images) and a small real ImageNet classifier (models/darknet-tiny). `MC_VISION_SHARED` names the
// folder when it is elsewhere (.ci/run sets it for a clone that does not sit beside it).

export const sharedDir = resolve(
  process.env.MC_VISION_SHARED ?? fileURLToPath(new URL('../../shared', import.meta.url)),
);

export const fixtureImagesDir = join(sharedDir, 'fixtures', 'images');

export const fixtureImagePath = (name: string): string => join(fixtureImagesDir, name);

/** The model the tests run: `MODEL_DIR` if set, else darknet-tiny from the shared material. */
export const testModelDir = process.env.MODEL_DIR
  ? resolve(process.env.MODEL_DIR)
  : join(sharedDir, 'models', 'darknet-tiny');
