import { sniffImageType } from '@mc-vision/core/image-type';
import type { ImageContentType } from '@mc-vision/core/schemas';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

// What `mcv batch <folder>` sends: every JPEG, PNG and WebP in the folder (by its bytes, not its name), each
// photo once however many copies the folder holds. Everything else is skipped, with the reason. Files are read
// one at a time and not kept: a folder of thousands of photos is read again, file by file, as it is uploaded.

export interface FolderImage {
  /** Relative to the folder. */
  file: string;
  path: string;
  contentType: ImageContentType;
  sha256: string;
  /** Other files with the same bytes. */
  copies: string[];
}

export interface FolderScan {
  images: FolderImage[];
  skipped: { file: string; reason: string }[];
}

export async function scanFolder(folder: string): Promise<FolderScan> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  const paths = entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  const images: FolderImage[] = [];
  const bySha = new Map<string, FolderImage>();
  const skipped: FolderScan['skipped'] = [];
  for (const path of paths) {
    const file = relative(folder, path);
    const bytes = await readFile(path);
    const contentType = sniffImageType(bytes);
    if (!contentType) {
      skipped.push({ file, reason: 'not a JPEG, PNG or WebP image' });
      continue;
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const same = bySha.get(sha256);
    if (same) {
      same.copies.push(file);
      skipped.push({ file, reason: `the same photo as ${same.file} (sent once)` });
      continue;
    }
    const image: FolderImage = { file, path, contentType, sha256, copies: [] };
    bySha.set(sha256, image);
    images.push(image);
  }
  return { images, skipped };
}
