import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { fixtureImagePath } from './index.ts';

// Many distinct photos from the repository's two, for batches in tests and benchmarks: each a crop, size and tint
// of its own, so every one has its own bytes (and content-hash key) while staying a real photo the classifier and
// the describers can read.

/** `count` distinct JPEGs about `edge` pixels on a side. */
export async function photoVariants(count: number, edge = 96): Promise<Buffer[]> {
  const sources = (['pelican.jpeg', 'bald-eagle.jpeg'] as const).map((name) =>
    readFileSync(fixtureImagePath(name)),
  );
  const sizes = await Promise.all(sources.map((source) => sharp(source).metadata()));
  const variants: Buffer[] = [];
  for (let index = 0; index < count; index += 1) {
    const source = sources[index % sources.length]!;
    const { width, height } = sizes[index % sources.length]!;
    const crop = 0.7 + ((index * 7) % 30) / 100;
    variants.push(
      await sharp(source)
        .extract({ left: 0, top: 0, width: Math.round(width * crop), height: Math.round(height * crop) })
        .resize(edge + (index % 17), edge + ((index * 3) % 13))
        .modulate({ brightness: 0.85 + (index % 10) / 30, hue: (index * 11) % 360 })
        .jpeg({ quality: 80 })
        .toBuffer(),
    );
  }
  return variants;
}
