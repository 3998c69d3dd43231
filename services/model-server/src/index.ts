export { activate, createClassifier, topLabels } from './classifier.ts';
export type { ClassifierOptions, ClassifyOptions, ImageClassifier } from './classifier.ts';
export { loadModelServerConfig, modelServerConfigSchema, modelServerDefaults } from './config.ts';
export type { ModelServerConfig } from './config.ts';
export { ImageRejectedError, ModelPackageError } from './errors.ts';
export { fetchModelPackage, resnet18 } from './fetch-model.ts';
export type { FetchModelOptions, ModelDownload } from './fetch-model.ts';
export { MANIFEST_FILE, labelsSchema, modelInputSchema, modelManifestSchema } from './manifest.ts';
export type { ModelInput, ModelManifest } from './manifest.ts';
export { loadModelPackage, sha256File } from './model-package.ts';
export type { ModelPackage } from './model-package.ts';
export { packageModel } from './package-model.ts';
export { devModelDir, fetchedModelDir, resolveModelDir } from './paths.ts';
export {
  centerCropBox,
  pixelsToTensor,
  preprocessImage,
  shorterSideSize,
} from './preprocess.ts';
export { createModelServer, startModelServer } from './server.ts';
export type { LogEvent, ModelServerOptions, RunningModelServer } from './server.ts';
