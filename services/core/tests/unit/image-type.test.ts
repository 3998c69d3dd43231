import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { sniffImageFormat, sniffImageType } from '../../src/image-type.ts';
import { pelican } from './providers/fixtures.ts';

// The one image type check the API, the worker and the model server share, on a real photo in every format.

describe('image type sniffing', () => {
  it('tells JPEG, PNG and WebP apart by their first bytes', async () => {
    const photo = Buffer.from(pelican.bytes);
    expect(sniffImageFormat(photo)).toBe('jpeg');
    expect(sniffImageType(photo)).toBe('image/jpeg');
    expect(sniffImageType(await sharp(photo).png().toBuffer())).toBe('image/png');
    expect(sniffImageType(await sharp(photo).webp().toBuffer())).toBe('image/webp');
  });

  it('refuses every other type, and prefixes too short to tell', async () => {
    const photo = Buffer.from(pelican.bytes);
    for (const bytes of [
      await sharp(photo).gif().toBuffer(),
      await sharp(photo).tiff().toBuffer(),
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
      Buffer.from('RIFF\0\0\0\0WAVEfmt '), // RIFF, but audio
      Buffer.from('RIFF'),
      Buffer.from([0xff, 0xd8]),
      new Uint8Array(),
    ]) {
      expect(sniffImageType(bytes)).toBeUndefined();
    }
  });

  it('imports nothing at run time, so the model server loads it without core’s SDK clients', () => {
    const source = readFileSync(new URL('../../src/image-type.ts', import.meta.url), 'utf8');
    const imports = source.split('\n').filter((line) => /^\s*(import|export)\b.*\bfrom\b/.test(line));
    expect(imports.every((line) => /^import type /.test(line))).toBe(true);
  });
});
