import sharp from 'sharp';
import { crc32, deflateSync } from 'node:zlib';
import { fixtureImage } from './local-aws.ts';

export const pelican = fixtureImage('pelican.jpeg');
export const baldEagle = fixtureImage('bald-eagle.jpeg');

/** The first half of a real JPEG: its header parses, its pixels do not. */
export const truncatedJpeg = pelican.subarray(0, Math.floor(pelican.length / 2));

export const pelicanAs = (format: 'png' | 'webp') => sharp(pelican).toFormat(format).toBuffer();

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(typed) >>> 0);
  return Buffer.concat([length, typed, checksum]);
}

/**
 * A decompression bomb: a valid grayscale PNG of `width`×`height` black pixels, a few tens of KB on the wire
 * that would decode to `width * height` bytes.
 */
export function pixelBombPng(width = 7000, height = 7000): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // grayscale
  const scanlines = deflateSync(Buffer.alloc((width + 1) * height), { level: 9 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', scanlines),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
