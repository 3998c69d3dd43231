import { rename, writeFile } from 'node:fs/promises';

// Durable files for the emulators' state: written to a temporary file beside the target, then renamed over it,
// so a crash leaves either the old or the new version, never half of one.

let temporaryFiles = 0;

/**
 * Writes `data` to `file` atomically. The folder must exist. `data` may be chunks of text, for a file larger than
 * one string can be.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array | Iterable<string>,
): Promise<void> {
  const temporary = `${file}.${process.pid}.${++temporaryFiles}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, file);
}
