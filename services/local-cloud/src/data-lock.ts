import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// One local cloud per data folder: two would share DynamoDB's LevelDB files, which only one process may open
// (and dynalite, refused, would crash on its first request). A pid file marks the folder as taken; one left
// by a process that is gone (killed, crashed) is taken over.

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the data folder; resolves with the function that gives it back. */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = join(dataDir, 'local-cloud.pid');
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && isRunning(pid)) {
      throw new Error(
        `the data folder ${dataDir} is in use by another MC Vision local cloud (process ${pid}): ` +
          'stop that one, or set DATA_DIR to another folder',
      );
    }
    await rm(file, { force: true });
  }
  throw new Error(`could not take the data folder ${dataDir} (${file} keeps coming back)`);
}
