import { z } from 'zod';

// The model package's manifest.json: everything the server needs to feed the model and read its answer.
// `assets/models/darknet-tiny/manifest.json` and the package `pnpm model:fetch` writes are examples.

export const MANIFEST_FILE = 'manifest.json';

/** A file inside the package folder: a plain name, never a path out of it. */
const packageFileName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a plain file name inside the package folder');
const dimension = z.number().int().min(1).max(4096);

const inputShape = {
  /** The ONNX graph's input name. */
  name: z.string().min(1),
  layout: z.enum(['NCHW', 'NHWC']),
  width: dimension,
  height: dimension,
  /** Channel order the model expects; `mean` and `std` are given in this order. */
  colorSpace: z.enum(['RGB', 'BGR']),
  /** Multiplies each 0-255 pixel value before mean/std: 1/255 for 0-1 inputs. */
  scale: z.number().positive(),
  mean: z.tuple([z.number(), z.number(), z.number()]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
};

export const modelInputSchema = z
  .discriminatedUnion('resize', [
    /** Resized to exactly width×height, aspect ratio not kept. */
    z.object({ ...inputShape, resize: z.literal('stretch') }),
    /** Resized so the shorter side is `shorterSide` (aspect kept), then center-cropped to width×height. */
    z.object({ ...inputShape, resize: z.literal('shorter-side'), shorterSide: dimension }),
  ])
  .refine(
    (input) => input.resize !== 'shorter-side' || input.shorterSide >= Math.max(input.width, input.height),
    {
      message: 'shorterSide must be at least width and height (the crop must fit)',
      path: ['shorterSide'],
    },
  );
export type ModelInput = z.infer<typeof modelInputSchema>;

export const modelManifestSchema = z.object({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-"'),
  task: z.literal('image-classification').optional(),
  format: z.literal('onnx'),
  file: packageFileName,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
  input: modelInputSchema,
  output: z.object({
    /** The ONNX graph's output name: one score per label. */
    name: z.string().min(1),
    /** How raw outputs become 0-1 scores: `none` when the model already outputs probabilities. */
    activation: z.enum(['softmax', 'sigmoid', 'none']),
  }),
  labels: packageFileName,
  license: z.string().optional(),
  source: z.url().optional(),
});
export type ModelManifest = z.infer<typeof modelManifestSchema>;

export const labelsSchema = z.array(z.string().min(1)).min(1);
