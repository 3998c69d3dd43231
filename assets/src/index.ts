import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The one module that finds the material the repository carries so that a plain clone starts, tests and
// benchmarks offline: two real photos and darknet-tiny, a small real ImageNet classifier (the local cloud's
// model when ResNet-18 cannot be had). Sources and licences: ../README.md.

export const assetsDir = fileURLToPath(new URL('..', import.meta.url));

/** Real photos for tests and the README walkthrough (synthetic and malformed images are made by the tests). */
export const fixtureImagesDir = join(assetsDir, 'images');

export type FixtureImage = 'pelican.jpeg' | 'bald-eagle.jpeg';

export const fixtureImagePath = (name: FixtureImage): string => join(fixtureImagesDir, name);

/** darknet-tiny as a model package (manifest, ONNX file, labels) the model server loads. */
export const bundledModelDir = join(assetsDir, 'models', 'darknet-tiny');

/** The model the tests and benchmarks run: `MODEL_DIR` when set (e.g. ResNet-18), else darknet-tiny. */
export const testModelDir = process.env.MODEL_DIR ? resolve(process.env.MODEL_DIR) : bundledModelDir;
