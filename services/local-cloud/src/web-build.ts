import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './config.ts';

// The API serves the built UI (web/dist). `pnpm start` builds it when it is missing or older than its
// sources. Vite runs as a child process into a fresh folder (under web/node_modules, ignored everywhere), which
// then replaces dist/: a server reading dist/ meanwhile never sees half a build.

export const webDir = join(repoRoot, 'web');
export const webDist = join(webDir, 'dist');

/** What the bundle is made of: the UI's own files and core's schemas it imports. */
const webSources = [
  join(webDir, 'src'),
  join(webDir, 'index.html'),
  join(webDir, 'vite.config.ts'),
  join(webDir, 'package.json'),
  join(repoRoot, 'services', 'core', 'src'),
];

async function newestChange(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const entries = await readdir(path);
  const times = await Promise.all(entries.map((entry) => newestChange(join(path, entry))));
  return Math.max(info.mtimeMs, ...times);
}

/** `missing`, `stale` (a source changed after the build) or `current`. */
export async function webBuildState(): Promise<'missing' | 'stale' | 'current'> {
  const built = await stat(join(webDist, 'index.html')).catch(() => undefined);
  if (!built) return 'missing';
  const sources = await Promise.all(webSources.map(newestChange));
  return Math.max(...sources) > built.mtimeMs ? 'stale' : 'current';
}

/** Builds the UI unless dist/ is current; resolves with what it did. */
export async function ensureWebBuild(): Promise<'built' | 'current'> {
  if ((await webBuildState()) === 'current') return 'current';
  const vite = join(webDir, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(vite)) throw new Error(`Vite is not installed in ${webDir}: run \`pnpm install\` first`);
  const outDir = await mkdtemp(join(webDir, 'node_modules', '.mc-vision-dist-'));
  try {
    await promisify(execFile)(
      process.execPath,
      [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
      { cwd: webDir, maxBuffer: 16 * 1024 * 1024 },
    ).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`building the web UI failed:\n${error.stderr?.trim() || error.message}`);
    });
    await chmod(outDir, 0o755); // mkdtemp made it owner-only; dist/ is an ordinary folder
    const previous = `${outDir}-previous`;
    await rename(webDist, previous).catch(() => undefined);
    await rename(outDir, webDist);
    await rm(previous, { recursive: true, force: true });
    return 'built';
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
