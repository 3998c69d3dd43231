import { describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { ImageRejectedError } from '../src/errors.ts';
import { modelInputSchema } from '../src/manifest.ts';
import type { ModelInput } from '../src/manifest.ts';
import {
  centerCropBox,
  pixelsToTensor,
  preprocessImage,
  shorterSideSize,
  tensorDims,
} from '../src/preprocess.ts';
import { pelican } from './helpers.ts';

const limits = { maxImagePixels: 40_000_000 };
const input = (overrides: Record<string, unknown>): ModelInput =>
  modelInputSchema.parse({
    name: 'input',
    layout: 'NCHW',
    width: 2,
    height: 2,
    colorSpace: 'RGB',
    resize: 'stretch',
    scale: 1,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    ...overrides,
  });

/** A solid image, encoded as PNG unless told otherwise. */
const solid = (width: number, height: number, background: string) =>
  sharp({ create: { width, height, channels: 3, background } });

describe('resize and crop arithmetic (torchvision Resize(256) + CenterCrop(224))', () => {
  it('scales the shorter side to the target and truncates the longer one', () => {
    expect(shorterSideSize(500, 375, 256)).toEqual({ width: 341, height: 256 });
    expect(shorterSideSize(375, 500, 256)).toEqual({ width: 256, height: 341 });
    expect(shorterSideSize(640, 640, 256)).toEqual({ width: 256, height: 256 });
    expect(shorterSideSize(100, 50, 256)).toEqual({ width: 512, height: 256 });
  });

  it('centers the crop, rounding half offsets to even as Python does', () => {
    expect(centerCropBox(256, 256, 224, 224)).toEqual({ left: 16, top: 16, width: 224, height: 224 });
    expect(centerCropBox(341, 256, 224, 224)).toEqual({ left: 58, top: 16, width: 224, height: 224 }); // 58.5 → 58
    expect(centerCropBox(343, 256, 224, 224)).toEqual({ left: 60, top: 16, width: 224, height: 224 }); // 59.5 → 60
    expect(centerCropBox(256, 342, 224, 224)).toEqual({ left: 16, top: 59, width: 224, height: 224 });
  });
});

describe('pixelsToTensor', () => {
  // Two pixels in a 2x1 image: red-ish and blue-ish.
  const pixels = Uint8Array.from([200, 10, 20, 30, 40, 250]);

  it('writes NCHW planes in RGB order with scale, mean and std applied', () => {
    const tensor = pixelsToTensor(
      pixels,
      input({ width: 2, height: 1, scale: 1 / 255, mean: [0.5, 0, 0], std: [0.5, 1, 2] }),
    );
    const expected = [
      (200 / 255 - 0.5) / 0.5,
      (30 / 255 - 0.5) / 0.5,
      10 / 255,
      40 / 255,
      20 / 255 / 2,
      250 / 255 / 2,
    ];
    expected.forEach((value, i) => expect(tensor[i]).toBeCloseTo(value, 6));
  });

  it('keeps pixels interleaved for NHWC and swaps channels for BGR', () => {
    expect(Array.from(pixelsToTensor(pixels, input({ width: 2, height: 1, layout: 'NHWC' })))).toEqual([
      200, 10, 20, 30, 40, 250,
    ]);
    expect(
      Array.from(pixelsToTensor(pixels, input({ width: 2, height: 1, layout: 'NHWC', colorSpace: 'BGR' }))),
    ).toEqual([20, 10, 200, 250, 40, 30]);
    expect(tensorDims(input({ width: 4, height: 3 }))).toEqual([1, 3, 3, 4]);
    expect(tensorDims(input({ width: 4, height: 3, layout: 'NHWC' }))).toEqual([1, 3, 4, 3]);
  });
});

describe('preprocessImage', () => {
  it('stretches the whole image into the input, aspect ratio not kept', async () => {
    // 40x10: left half red, right half blue → 8x2 input: red at the left edge, blue at the right edge.
    const image = await solid(40, 10, '#ff0000')
      .composite([{ input: await solid(20, 10, '#0000ff').png().toBuffer(), left: 20, top: 0 }])
      .png()
      .toBuffer();
    const { tensor, dims, source } = await preprocessImage(image, input({ width: 8, height: 2 }), limits);
    expect(dims).toEqual([1, 3, 2, 8]);
    expect(source).toEqual({ format: 'png', width: 40, height: 10 });
    const red = tensor.subarray(0, 16);
    const blue = tensor.subarray(32, 48);
    expect([red[0], blue[0], red[15], blue[15]]).toEqual([255, 0, 0, 255]);
  });

  it('resizes the shorter side and crops the center for shorter-side', async () => {
    // 300x100, green 100-px bands at both ends, red between. Shorter side → 8 (24x8), center crop 4x4: only
    // red is left. Stretched instead, the green bands stay at the edges.
    const band = await solid(100, 100, '#00ff00').png().toBuffer();
    const image = await solid(300, 100, '#ff0000')
      .composite([
        { input: band, left: 0, top: 0 },
        { input: band, left: 200, top: 0 },
      ])
      .png()
      .toBuffer();
    const crop = input({ width: 4, height: 4, resize: 'shorter-side', shorterSide: 8 });
    const { tensor } = await preprocessImage(image, crop, limits);
    expect(Array.from(tensor.subarray(0, 16))).toEqual(Array(16).fill(255)); // red plane
    expect(Array.from(tensor.subarray(16, 32))).toEqual(Array(16).fill(0)); // green plane

    const stretched = await preprocessImage(image, input({ width: 12, height: 4 }), limits);
    expect(stretched.tensor[0]).toBe(0); // red plane, top-left pixel: green band
    expect(stretched.tensor[48]).toBe(255); // green plane, top-left pixel
  });

  it('applies EXIF orientation before resizing', async () => {
    // Stored 4x2 (red left, blue right) with orientation 6 (displayed rotated 90° clockwise: red on top).
    const stored = await solid(4, 2, '#ff0000')
      .composite([{ input: await solid(2, 2, '#0000ff').png().toBuffer(), left: 2, top: 0 }])
      .jpeg({ quality: 100 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const { tensor, source } = await preprocessImage(stored, input({ width: 1, height: 2 }), limits);
    expect(source).toMatchObject({ width: 2, height: 4 });
    const [redTop, redBottom, , , blueTop, blueBottom] = Array.from(tensor);
    expect(redTop).toBeGreaterThan(200);
    expect(blueTop).toBeLessThan(50);
    expect(redBottom).toBeLessThan(50);
    expect(blueBottom).toBeGreaterThan(200);
  });

  it('turns greyscale into three equal channels and drops alpha', async () => {
    const grey = await solid(8, 8, '#646464').toColourspace('b-w').png().toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    const fromGrey = await preprocessImage(grey, input({}), limits);
    expect(Array.from(fromGrey.tensor)).toEqual(Array(12).fill(100));

    const translucent = await sharp({
      create: { width: 8, height: 8, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.2 } },
    })
      .png()
      .toBuffer();
    const fromRgba = await preprocessImage(translucent, input({}), limits);
    expect(Array.from(fromRgba.tensor)).toEqual([10, 10, 10, 10, 20, 20, 20, 20, 30, 30, 30, 30]);
  });

  it('reads 16-bit PNG as 8-bit values', async () => {
    const deep = await solid(4, 4, '#c86432').toColourspace('rgb16').png().toBuffer();
    const { tensor } = await preprocessImage(deep, input({}), limits);
    expect(Array.from(tensor)).toEqual([200, 200, 200, 200, 100, 100, 100, 100, 50, 50, 50, 50]);
  });

  it('decodes by what the bytes are (core’s sniffing), not by what the caller claims', async () => {
    for (const format of ['png', 'webp'] as const) {
      const bytes = await sharp(pelican).toFormat(format).toBuffer();
      const { source } = await preprocessImage(bytes, input({}), limits);
      expect(source).toEqual({ format, width: 500, height: 375 });
    }
  });

  it('rejects with the status the server answers', async () => {
    const statusOf = (bytes: Uint8Array, maxImagePixels = 40_000_000) =>
      preprocessImage(bytes, input({}), { maxImagePixels }).then(
        () => 200,
        (error: unknown) => (error instanceof ImageRejectedError ? error.status : 500),
      );
    expect(await statusOf(Buffer.from('%PDF-1.7 not an image'))).toBe(415);
    expect(await statusOf(await sharp(pelican).gif().toBuffer())).toBe(415);
    expect(await statusOf(pelican.subarray(0, 2000))).toBe(422);
    expect(await statusOf(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0, 0, 0]))).toBe(422);
    expect(await statusOf(pelican, 500 * 374)).toBe(413); // the photo is 500x375
    expect(await statusOf(pelican, 500 * 375)).toBe(200);
  });
});
