// Deep imports from core: its index loads every AWS SDK client, 0.3 s of a serverless cold start.
import { parseEnvironment } from '@mc-vision/core/config/index';
import { runtimeConfigShape } from '@mc-vision/core/config/runtime';
import { z } from 'zod';

// The model server's own environment. It runs as a SageMaker container, so it cannot read the platform's
// configuration wholesale (PORT differs: SageMaker requires 8080); limits reuse the platform's definitions.

export const modelServerConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** 127.0.0.1 on a laptop; the container image sets 0.0.0.0 so SageMaker can reach it. */
  HOST: z.string().min(1).default('127.0.0.1'),
  MODEL_DIR: runtimeConfigShape.MODEL_DIR,
  MAX_IMAGE_BYTES: runtimeConfigShape.MAX_IMAGE_BYTES,
  MAX_IMAGE_PIXELS: runtimeConfigShape.MAX_IMAGE_PIXELS,
  /** Labels returned when the caller does not ask for a number. */
  CLASSIFIER_TOP_K: runtimeConfigShape.CLASSIFIER_TOP_K,
  /** The endpoint the runtime path (`/endpoints/{name}/invocations`) answers for; any other name is not found. */
  SAGEMAKER_ENDPOINT_NAME: runtimeConfigShape.SAGEMAKER_ENDPOINT_NAME,
});

export type ModelServerConfig = z.infer<typeof modelServerConfigSchema>;

/** Reads the model server's variables (empty strings count as unset), listing every problem at once. */
export function loadModelServerConfig(
  env: Record<string, string | undefined> = process.env,
): ModelServerConfig {
  return parseEnvironment(modelServerConfigSchema, env);
}

/** The defaults, for callers that pass options in code rather than through the environment. */
export const modelServerDefaults = modelServerConfigSchema.parse({});
