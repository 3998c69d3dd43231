// Harness for the browser test: builds the UI into dist/ (the API serves it) and starts the whole local
// platform on loopback, returning where it listens and its API key.
import type { Config } from '@mc-vision/core/config/index';
import { formatLogEntry, startLocalCloud } from '@mc-vision/local-cloud';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testModelDir } from '@mc-vision/assets';

export const webRoot = fileURLToPath(new URL('..', import.meta.url));

export interface Platform {
  /** Origin serving the UI and the API, e.g. http://127.0.0.1:41234 */
  url: string;
  apiKey: string;
  /** Each local component's URL, by name (the emulators' fault routes). */
  components: Record<string, string>;
  /** This run's token for the emulators' fault routes. */
  adminToken: string;
  /** The one-time sign-in link `pnpm start` prints. */
  signInUrl: string;
  /** What the platform runs with (its Step Functions endpoint and state machines, for arranging a test). */
  config: Config;
  close(): Promise<void>;
}

/** `env`: settings for the local cloud on top of the quiet log level (e.g. a batch's tolerated failures, MONITORING_PERIOD_SECONDS). */
export async function startPlatform(env: Record<string, string> = {}): Promise<Platform> {
  // A child process: Vite's bundler (rolldown) rejects plugin objects made inside jest's module sandbox.
  await promisify(execFile)(process.execPath, [join(webRoot, 'node_modules/vite/bin/vite.js'), 'build'], {
    cwd: webRoot,
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'mc-vision-web-'));
  const cloud = await startLocalCloud({
    dataDir,
    port: 0,
    modelDir: testModelDir,
    webRoot: join(webRoot, 'dist'),
    // Only what went wrong: request lines and the platform's info lines would bury jest's output.
    env: { POWERTOOLS_LOG_LEVEL: 'WARN', ...env },
    log: (entry) => {
      if (entry.level !== 'info') console.warn(formatLogEntry(entry));
    },
  });
  return {
    url: cloud.url.replace(/\/$/, ''),
    apiKey: cloud.apiKey,
    components: Object.fromEntries(cloud.components.map((part) => [part.name, part.url])),
    adminToken: cloud.adminToken,
    signInUrl: cloud.signInUrl,
    config: cloud.config,
    async close() {
      await cloud.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
