import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { fetchModelPackage, resnet18 } from '../fetch-model.ts';
import { fetchedModelDir, resolveUserPath } from '../paths.ts';

// `pnpm model:fetch [--url URL] [--out DIR] [--force]`: downloads ResNet-18 v1-7 and writes its model package.

const usage = `usage: pnpm model:fetch [--url URL] [--out DIR] [--force]
  --url    where to download resnet18-v1-7.onnx (default ${resnet18.url})
  --out    the model package folder to write (default ${fetchedModelDir})
  --force  replace the package if one is already there`;

let values: { url?: string; out?: string; force?: boolean; help?: boolean };
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2).filter((arg) => arg !== '--'),
    options: {
      url: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  }));
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}

const outDir = values.out ? resolveUserPath(values.out) : fetchedModelDir;
const url = values.url ?? resnet18.url;
const megabytes = (bytes: number) => (bytes / 1e6).toFixed(1);

// A bar on a terminal; a plain line every few seconds when the output is a log file or CI.
const bar = new SingleBar({
  format: `${resnet18.manifest.name} [{bar}] {percentage}% | {done}/{size} MB | ETA {eta_formatted}`,
  noTTYOutput: true,
  notTTYSchedule: 2_000,
  hideCursor: true,
});
let started = false;

// Ctrl-C aborts the download; fetchModelPackage then removes the partial folder before we exit.
const abort = new AbortController();
process.once('SIGINT', () => abort.abort(new Error('interrupted')));
process.once('SIGTERM', () => abort.abort(new Error('terminated')));

console.log(`fetching ${url}\n      -> ${outDir}`);
try {
  const result = await fetchModelPackage(resnet18, {
    outDir,
    url,
    force: values.force,
    signal: abort.signal,
    onProgress(received, total) {
      const payload = { done: megabytes(received), size: megabytes(total) };
      if (!started) bar.start(total, received, payload);
      else bar.update(received, payload);
      started = true;
    },
  });
  bar.stop();
  console.log(
    result.status === 'present'
      ? `already there and verified: ${result.dir}`
      : `verified sha256 ${resnet18.manifest.sha256}\nwrote model package ${result.dir}`,
  );
} catch (error) {
  bar.stop();
  console.error(`model:fetch failed: ${(error as Error).message}`);
  process.exit(1);
}
