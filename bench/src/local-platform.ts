// What the pipeline and API benchmarks share: a local cloud in a fresh data folder serving the darknet-tiny
// the repository ships (a plain clone has nothing else), distinct photos to send, a CPU profile summary.
import { Logger } from '@aws-lambda-powertools/logger';
import { bundledModelDir, fixtureImagesDir } from '@mc-vision/assets';
import { startLocalCloud, type LocalCloud } from '@mc-vision/local-cloud';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Profiler } from 'node:inspector';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchCloud extends LocalCloud {
  /** Sends one request to the API with its key. */
  api(path: string, init?: RequestInit): Promise<Response>;
}

export async function startBenchCloud(): Promise<BenchCloud> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcv-bench-cloud-'));
  // Only what a fresh clone has: no MODEL_DIR, no keys; the Azure key is generated in the data folder.
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: '0',
  };
  const cloud = await startLocalCloud({
    dataDir,
    port: 0,
    env,
    modelDir: bundledModelDir,
    log: () => {},
    apiLogger: new Logger({ logLevel: 'SILENT' }),
  });
  return {
    ...cloud,
    api: (path, init = {}) =>
      fetch(`${cloud.url}${path}`, { ...init, headers: { 'x-api-key': cloud.apiKey, ...init.headers } }),
    close: async () => {
      await cloud.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const photo = readFileSync(join(fixtureImagesDir, 'pelican.jpeg'));

/**
 * The pelican photo with a JPEG comment (COM segment) naming `n` right after the start-of-image marker:
 * the same pixels, different bytes, so no cache keyed by the bytes answers for another request's image.
 */
export function distinctPhoto(n: number): Uint8Array {
  const text = Buffer.from(`mc-vision bench ${n}`);
  const segment = Buffer.alloc(4 + text.length);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(text.length + 2, 2);
  text.copy(segment, 4);
  return Buffer.concat([photo.subarray(0, 2), segment, photo.subarray(2)]);
}

/** Uploads a photo; answers its key. */
export async function upload(cloud: BenchCloud, bytes: Uint8Array): Promise<string> {
  const response = await cloud.api('/v1/images', {
    method: 'POST',
    body: bytes,
    headers: { 'content-type': 'image/jpeg' },
  });
  if (response.status !== 201)
    throw new Error(`upload answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { key: string }).key;
}

export interface ProfileSummary {
  /** Sampled milliseconds by where the code lives, largest first. */
  byArea: [string, number][];
  /** The busiest functions (self time). */
  functions: [string, number][];
  totalMs: number;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Where a function lives: a workspace package's folder or a dependency; undefined for Node's own code. */
function packageOf(url: string): string | undefined {
  const dependency = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1]!;
  if (url.includes('/bench/src/')) return 'the benchmark itself (the profiler stopping)';
  const workspace = /\/(services\/[^/]+\/src(?:\/[^/]+(?=\/))?)/.exec(url);
  return workspace?.[1];
}

/**
 * CPU-profiles this process (the main thread) while `work` runs. With BENCH_CPU_PROFILE_DIR set, the whole
 * profile is also written there as `<label>.cpuprofile` (Chrome DevTools, speedscope) to look deeper.
 */
export async function profiled<T>(
  label: string,
  work: () => Promise<T>,
): Promise<{ value: T; profile: ProfileSummary }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  let value: T;
  let profile: Profiler.Profile;
  try {
    value = await work();
  } finally {
    ({ profile } = await session.post('Profiler.stop'));
    session.disconnect();
  }
  const keepIn = process.env.BENCH_CPU_PROFILE_DIR;
  if (keepIn) {
    mkdirSync(keepIn, { recursive: true });
    writeFileSync(join(keepIn, `${label}.cpuprofile`), JSON.stringify(profile!));
  }
  const nodes = new Map<number, ProfileNode>(
    (profile!.nodes as ProfileNode[]).map((node) => [node.id, node]),
  );
  const parents = new Map<number, number>();
  for (const node of nodes.values()) for (const child of node.children ?? []) parents.set(child, node.id);
  // Node's own code and native calls (streams, sockets, file handles) count for the package that called them.
  const areaOf = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const found = packageOf(nodes.get(at)!.callFrame.url);
      if (found) return found;
    }
    const { functionName, url } = nodes.get(id)!.callFrame;
    if (url) return url.split('/').slice(0, 2).join('/');
    return functionName.startsWith('(') ? functionName : `(${functionName || 'native'})`;
  };
  const self = new Map<number, number>();
  const deltas = profile!.timeDeltas ?? [];
  (profile!.samples ?? []).forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0) / 1000));
  const byArea = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    const area = areaOf(id);
    byArea.set(area, (byArea.get(area) ?? 0) + ms);
    const name =
      `${functionName || '(anonymous)'} ${url ? `${url.split('/').slice(-2).join('/')}:${lineNumber + 1}` : ''}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + ms);
  }
  const top = (map: Map<string, number>, n: number) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  const totalMs = [...self.values()].reduce((sum, ms) => sum + ms, 0);
  return { value: value!, profile: { byArea: top(byArea, 16), functions: top(functions, 12), totalMs } };
}
