// By subpath, not core's index: the index loads every AWS SDK client, a slower cold start.
import { sniffImageFormat, type ImageFormat } from '@mc-vision/core/image-type';
import sharp from 'sharp';
import { ImageRejectedError, tooLarge, undecodable, unsupported } from './errors.ts';
import type { ModelInput } from './manifest.ts';

// Image bytes → the model's input tensor, exactly as the manifest says. sharp (libvips) does the decoding and
// resampling on its own threads; the final byte → float conversion runs here, which the classifier calls on
// its inference worker's thread. Only JPEG, PNG and WebP
// (by their magic bytes, `sniffImageFormat`) ever reach the decoder: libvips also parses SVG, TIFF, ….

/** torchvision's Resize(int): the shorter side becomes `target`, the longer one is scaled and truncated. */
export function shorterSideSize(
  width: number,
  height: number,
  target: number,
): { width: number; height: number } {
  if (width <= height) return { width: target, height: Math.floor((target * height) / width) };
  return { width: Math.floor((target * width) / height), height: target };
}

/** torchvision's CenterCrop offsets: Python's round(), which rounds halves to even. */
export function centerCropBox(
  width: number,
  height: number,
  cropWidth: number,
  cropHeight: number,
): { left: number; top: number; width: number; height: number } {
  return {
    left: roundHalfToEven((width - cropWidth) / 2),
    top: roundHalfToEven((height - cropHeight) / 2),
    width: cropWidth,
    height: cropHeight,
  };
}

function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Interleaved 8-bit RGB pixels (row-major, 3 per pixel) → float32 tensor data in the model's layout and
 * channel order: value = (pixel × scale − mean[c]) / std[c].
 */
export function pixelsToTensor(pixels: Uint8Array, input: ModelInput): Float32Array {
  const plane = input.width * input.height;
  if (pixels.length !== plane * 3) {
    throw new Error(
      `expected ${plane * 3} RGB bytes for ${input.width}x${input.height}, got ${pixels.length}`,
    );
  }
  const tensor = new Float32Array(plane * 3);
  const sourceChannel = input.colorSpace === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    // 256-entry lookup table per channel: one multiply-add per pixel value, not per pixel.
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = (v * input.scale - input.mean[c]!) / input.std[c]!;
    const from = sourceChannel[c]!;
    if (input.layout === 'NCHW') {
      const offset = c * plane;
      for (let i = 0; i < plane; i++) tensor[offset + i] = table[pixels[i * 3 + from]!]!;
    } else {
      for (let i = 0; i < plane; i++) tensor[i * 3 + c] = table[pixels[i * 3 + from]!]!;
    }
  }
  return tensor;
}

/** The tensor's shape for a batch of one. */
export function tensorDims(input: ModelInput): number[] {
  return input.layout === 'NCHW' ? [1, 3, input.height, input.width] : [1, input.height, input.width, 3];
}

export interface PreprocessLimits {
  /** Decompression-bomb guard: width × height of the encoded image. */
  maxImagePixels: number;
}

export interface Preprocessed {
  tensor: Float32Array;
  dims: number[];
  source: { format: ImageFormat; width: number; height: number };
}

/**
 * Decodes JPEG/PNG/WebP bytes (EXIF orientation applied, alpha dropped, greyscale/CMYK/16-bit brought to
 * 8-bit sRGB), resizes and crops as the manifest says and returns the input tensor.
 * Throws ImageRejectedError: 415 not JPEG/PNG/WebP, 413 too many pixels, 422 cannot be decoded.
 */
export async function preprocessImage(
  bytes: Uint8Array,
  input: ModelInput,
  limits: PreprocessLimits,
): Promise<Preprocessed> {
  const format = sniffImageFormat(bytes);
  if (!format) throw new ImageRejectedError(unsupported, 'the body is not a JPEG, PNG or WebP image');

  // failOn 'warning': a truncated or corrupt image is refused, not classified from a half-grey bitmap. One
  // sharp instance reads the header for the size check below and then decodes; the pixel limit is that check,
  // made before any pixel is decoded (sharp's own would refuse without naming the size).
  const image = sharp(bytes, { failOn: 'warning', limitInputPixels: false, autoOrient: true });
  let width: number;
  let height: number;
  try {
    const metadata = await image.metadata();
    width = metadata.autoOrient.width;
    height = metadata.autoOrient.height;
  } catch (error) {
    throw decodeFailure(error, format);
  }
  if (width * height > limits.maxImagePixels) {
    throw new ImageRejectedError(
      tooLarge,
      `the image is ${width}x${height} (${width * height} pixels); the limit is ${limits.maxImagePixels} pixels`,
    );
  }

  let pipeline = image.removeAlpha().toColourspace('srgb');
  if (input.resize === 'stretch') {
    pipeline = pipeline.resize(input.width, input.height, { fit: 'fill', kernel: 'linear' });
  } else {
    const resized = shorterSideSize(width, height, input.shorterSide);
    pipeline = pipeline
      .resize(resized.width, resized.height, { fit: 'fill', kernel: 'linear' })
      .extract(centerCropBox(resized.width, resized.height, input.width, input.height));
  }

  let pixels: Buffer;
  try {
    pixels = await pipeline.raw({ depth: 'uchar' }).toBuffer();
  } catch (error) {
    throw decodeFailure(error, format);
  }
  return {
    tensor: pixelsToTensor(pixels, input),
    dims: tensorDims(input),
    source: { format, width, height },
  };
}

function decodeFailure(error: unknown, format: ImageFormat): ImageRejectedError {
  const reason = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
  if (/pixel limit/i.test(reason)) {
    return new ImageRejectedError(tooLarge, `the image has more pixels than the limit (${reason})`, {
      cause: error,
    });
  }
  return new ImageRejectedError(
    undecodable,
    `the ${format.toUpperCase()} image cannot be decoded: ${reason}`,
    {
      cause: error,
    },
  );
}
