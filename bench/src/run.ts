// `pnpm bench`: runs every benchmark below, one after the other, each in its own Node process (a cold start
// is measured in fresh processes, and one benchmark's heap never weighs on the next). Each writes
// bench/results/<name>.json; this then regenerates docs/benchmarks.md from them and the machine they ran on.
// `pnpm bench <name> …` runs only those (the document keeps the other results as they were).
// A new benchmark is one more entry in `benchmarks` and one file in src/benchmarks/.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { stealMeter } from './cpu-steal.ts';
import { join } from 'node:path';
import * as z from 'zod';
import { repoRoot } from './paths.ts';
import { benchResultSchema, type BenchResult } from './report.ts';
import { renderBenchmarks } from './render.ts';

export interface Benchmark {
  name: string;
  /** Relative to src/benchmarks. */
  file: string;
  /** It is stopped (and reported as failed) after this long. */
  timeoutSeconds: number;
}

export const benchmarks: Benchmark[] = [
  { name: 'lambda-bundles', file: 'lambda-bundles.ts', timeoutSeconds: 180 },
  { name: 'classifier', file: 'classifier.ts', timeoutSeconds: 180 },
  { name: 'pipelines', file: 'pipelines.ts', timeoutSeconds: 240 },
  { name: 'batch', file: 'batch.ts', timeoutSeconds: 240 },
  { name: 'api-load', file: 'api-load.ts', timeoutSeconds: 180 },
  { name: 'synth', file: 'synth.ts', timeoutSeconds: 180 },
];

const benchDir = join(repoRoot, 'bench');
const resultsDir = join(benchDir, 'results');
const runFile = join(resultsDir, 'run.json');
const docFile = join(repoRoot, 'docs', 'benchmarks.md');

export const runSchema = z.object({
  date: z.string(),
  node: z.string(),
  cpu: z.string(),
  cpus: z.number(),
  memoryGb: z.number(),
  /** The 1-minute load average when the run started: other work on the machine shows here. */
  loadAverage: z.number(),
  /** Per cent of the machine's CPU time taken by other tenants during the run (Linux's steal time). */
  stolenPercent: z.number().optional(),
  seconds: z.number(),
  /** Benchmarks that failed in this run, with the end of their output. */
  failed: z.record(z.string(), z.string()),
});
export type RunInfo = z.infer<typeof runSchema>;

function runOne(benchmark: Benchmark, out: string): Promise<{ ok: boolean; tail: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(benchDir, 'src', 'benchmarks', benchmark.file)], {
      cwd: repoRoot,
      env: { ...process.env, BENCH_OUT: out },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const keep = (chunk: Buffer, stream: NodeJS.WriteStream) => {
      stream.write(chunk);
      tail = (tail + chunk.toString()).slice(-2_000);
    };
    child.stdout.on('data', (chunk: Buffer) => keep(chunk, process.stdout));
    child.stderr.on('data', (chunk: Buffer) => keep(chunk, process.stderr));
    const timer = setTimeout(() => {
      tail += `\nstopped after ${benchmark.timeoutSeconds} s`;
      child.kill('SIGKILL');
    }, benchmark.timeoutSeconds * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0 && existsSync(out), tail });
    });
  });
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !benchmarks.some((b) => b.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `no benchmark ${unknown.join(', ')}; there are: ${benchmarks.map((b) => b.name).join(', ')}`,
    );
  }
  const selected = wanted.length > 0 ? benchmarks.filter((b) => wanted.includes(b.name)) : benchmarks;
  mkdirSync(resultsDir, { recursive: true });
  const started = performance.now();
  const stolen = stealMeter();
  const info: RunInfo = {
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: cpus().length,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
    seconds: 0,
    failed: {},
  };
  for (const benchmark of selected) {
    const out = join(resultsDir, `${benchmark.name}.json`);
    const fresh = `${out}.new`;
    const { ok, tail } = await runOne(benchmark, fresh);
    if (ok) {
      writeFileSync(out, readFileSync(fresh));
    } else {
      info.failed[benchmark.name] = tail.trim().split('\n').slice(-15).join('\n');
      console.error(`\n${benchmark.name} failed`);
    }
    rmSync(fresh, { force: true });
  }
  info.seconds = Math.round((performance.now() - started) / 1000);
  const stolenPercent = stolen();
  if (stolenPercent !== undefined) info.stolenPercent = stolenPercent;
  if (wanted.length === 0) writeFileSync(runFile, `${JSON.stringify(info, null, 2)}\n`);

  const results: BenchResult[] = benchmarks
    .map((b) => join(resultsDir, `${b.name}.json`))
    .filter((file) => existsSync(file))
    .map((file) => benchResultSchema.parse(JSON.parse(readFileSync(file, 'utf8'))));
  const run = existsSync(runFile) ? runSchema.parse(JSON.parse(readFileSync(runFile, 'utf8'))) : info;
  writeFileSync(docFile, renderBenchmarks(run, results));
  console.log(`\nwrote ${docFile} (${info.seconds} s)`);
  if (Object.keys(info.failed).length > 0) process.exitCode = 1;
}

await main();
