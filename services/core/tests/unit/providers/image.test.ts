import { describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { prepareImage, type ImageInput } from '../../../src/index.ts';
import { pelican } from './fixtures.ts';

async function synthetic(format: 'png' | 'webp' | 'gif', width: number, height: number): Promise<ImageInput> {
  const bytes = await sharp({ create: { width, height, channels: 3, background: '#3366cc' } })
    .toFormat(format)
    .toBuffer();
  return { bytes: new Uint8Array(bytes), contentType: format === 'webp' ? 'image/webp' : 'image/png' };
}

async function rejectionName(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).name;
  }
  return undefined;
}

describe('prepareImage', () => {
  it('downsizes a photo so its longest edge fits, keeping the aspect ratio and format', async () => {
    const prepared = await prepareImage(pelican, { maxEdge: 200 });
    expect([prepared.width, prepared.height]).toEqual([200, 150]);
    const decoded = await sharp(prepared.bytes).metadata();
    expect([decoded.format, decoded.width, decoded.height]).toEqual(['jpeg', 200, 150]);
    expect(prepared.contentType).toBe('image/jpeg');
  });

  it('never upscales: a small image is sent as it is', async () => {
    const prepared = await prepareImage(pelican, { maxEdge: 2000 });
    expect(prepared.bytes).toBe(pelican.bytes);
    expect([prepared.width, prepared.height]).toEqual([500, 375]);
  });

  it.each(['png', 'webp'] as const)('keeps %s as %s', async (format) => {
    const prepared = await prepareImage(await synthetic(format, 300, 900), { maxEdge: 90 });
    expect(prepared.format).toBe(format);
    expect(prepared.contentType).toBe(`image/${format}`);
    expect((await sharp(prepared.bytes).metadata()).height).toBe(90);
  });

  it('labels the image by its bytes, not by the declared content type', async () => {
    const png = await synthetic('png', 40, 40);
    const prepared = await prepareImage({ bytes: png.bytes, contentType: 'image/jpeg' }, { maxEdge: 100 });
    expect(prepared.contentType).toBe('image/png');
  });

  it('applies EXIF orientation, so a portrait photo stays portrait', async () => {
    const rotated = await sharp(Buffer.from(pelican.bytes))
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const prepared = await prepareImage(
      { bytes: new Uint8Array(rotated), contentType: 'image/jpeg' },
      { maxEdge: 100 },
    );
    // 375 × 500 as displayed; libvips' shrink-on-load may round the short edge down by a pixel.
    expect(prepared.height).toBe(100);
    expect(Math.abs(prepared.width - 75)).toBeLessThanOrEqual(1);
  });

  it('rejects undecodable bytes, unsupported formats and too many pixels as InvalidImage', async () => {
    const garbage = { bytes: new TextEncoder().encode('GIF? no, text'), contentType: 'image/jpeg' as const };
    expect(await rejectionName(prepareImage(garbage, { maxEdge: 100 }))).toBe('InvalidImage');
    const truncated = { bytes: pelican.bytes.slice(0, 2000), contentType: 'image/jpeg' as const };
    expect(await rejectionName(prepareImage(truncated, { maxEdge: 100 }))).toBe('InvalidImage');
    expect(await rejectionName(prepareImage(await synthetic('gif', 10, 10), { maxEdge: 100 }))).toBe(
      'InvalidImage',
    );
    expect(await rejectionName(prepareImage(pelican, { maxEdge: 100, maxPixels: 100_000 }))).toBe(
      'InvalidImage',
    );
  });
});
