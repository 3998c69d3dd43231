import { describe, expect, it } from '@jest/globals';
import { chmod, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareDataDir } from '../src/data-dir.ts';
import { tempDir } from './support.ts';

// The data folder is made its owner's alone at every start — what the local cloud keeps there, and nothing
// else: DATA_DIR may name a folder that holds other things.

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('prepareDataDir', () => {
  it("tightens the folder and the local cloud's own entries, and leaves everything else as it was", async () => {
    const dir = await tempDir('data-dir');
    try {
      await chmod(dir, 0o755);
      await writeFile(join(dir, 'api-key'), 'key\n', { mode: 0o644 });
      await mkdir(join(dir, 's3', 'bucket'), { recursive: true, mode: 0o755 });
      await writeFile(join(dir, 's3', 'bucket', 'object'), 'bytes', { mode: 0o644 });
      await writeFile(join(dir, 'someone-elses-script.sh'), '#!/bin/sh\n', { mode: 0o755 });

      await prepareDataDir(dir);

      expect(await modeOf(dir)).toBe(0o700);
      expect(await modeOf(join(dir, 'api-key'))).toBe(0o600);
      expect(await modeOf(join(dir, 's3'))).toBe(0o700);
      expect(await modeOf(join(dir, 's3', 'bucket'))).toBe(0o700);
      expect(await modeOf(join(dir, 's3', 'bucket', 'object'))).toBe(0o600);
      expect(await modeOf(join(dir, 'dynamodb'))).toBe(0o700); // created
      expect(await modeOf(join(dir, 'someone-elses-script.sh'))).toBe(0o755);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
