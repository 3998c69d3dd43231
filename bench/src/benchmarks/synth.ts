// How long and how much memory synthesizing every stack takes, our way (`pnpm synth` = `tsx src/main.ts`)
// side by side with the cdktf CLI (`cdktf synth`, which runs the same app from cdktf.json), in one run. Peak memory is the resident set of the whole process tree (the CLI runs the app
// in child processes), sampled from /proc. Both outputs are compared, so the two measure the same work.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../paths.ts';
import { median, megabytes, ratio, Report, seconds as inSeconds } from '../report.ts';

const infraDir = join(repoRoot, 'infra');
const rounds = Number(process.env.BENCH_SYNTH_ROUNDS ?? 5);
const sampleEveryMs = 10;

interface Measurement {
  wallMs: number;
  peakRssBytes: number;
  processes: number;
}

interface Contender {
  name: string;
  command: string[];
  outdir: string;
}

const work = mkdtempSync(join(tmpdir(), 'mcv-synth-bench-'));
// Terraform and the CLI must not read a user's config or phone home.
const emptyTerraformConfig = join(work, 'empty.tfrc');
writeFileSync(emptyTerraformConfig, '');
const env = { ...process.env, TF_CLI_CONFIG_FILE: emptyTerraformConfig, CHECKPOINT_DISABLE: '1' };

const contenders: Contender[] = [
  {
    name: 'pnpm synth (tsx src/main.ts)',
    command: [join(repoRoot, 'node_modules', '.bin', 'tsx'), 'src/main.ts'],
    outdir: join(work, 'tsx'),
  },
  {
    name: 'cdktf synth (CLI)',
    command: [join(infraDir, 'node_modules', '.bin', 'cdktf'), 'synth', '--output', join(work, 'cli')],
    outdir: join(work, 'cli'),
  },
];

/** Parent pid of every process, from /proc/<pid>/stat (field 4, after the parenthesized name). */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      map.set(Number(entry), ppid);
    } catch {
      // exited while we looked
    }
  }
  return map;
}

function tree(root: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const [pid, ppid] of parents()) byParent.set(ppid, [...(byParent.get(ppid) ?? []), pid]);
  const found = [root];
  for (let i = 0; i < found.length; i += 1) found.push(...(byParent.get(found[i]!) ?? []));
  return found;
}

function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
    return kb * 1024;
  } catch {
    return 0;
  }
}

function measure(contender: Contender): Promise<Measurement> {
  rmSync(contender.outdir, { recursive: true, force: true });
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const [file, ...args] = contender.command;
    const child = spawn(file!, args, {
      cwd: infraDir,
      env: { ...env, CDKTF_OUTDIR: contender.outdir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let peakRssBytes = 0;
    const seen = new Set<number>();
    const sampler = setInterval(() => {
      const pids = tree(child.pid!);
      pids.forEach((pid) => seen.add(pid));
      peakRssBytes = Math.max(
        peakRssBytes,
        pids.reduce((sum, pid) => sum + rssBytes(pid), 0),
      );
    }, sampleEveryMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sampler);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) reject(new Error(`${contender.name} exited with ${code}:\n${stderr.slice(-2000)}`));
      else resolve({ wallMs, peakRssBytes, processes: seen.size });
    });
  });
}

/** Every stack's Terraform JSON, keyed by stack name. */
function synthesized(outdir: string): Map<string, string> {
  const stacksDir = join(outdir, 'stacks');
  return new Map(
    readdirSync(stacksDir).map((stack) => [
      stack,
      readFileSync(join(stacksDir, stack, 'cdk.tf.json'), 'utf8'),
    ]),
  );
}

/** The CLI loads a native terminal binding at start; say why it cannot, rather than show its stack trace. */
function checkCliCanStart(): void {
  const fromInfra = createRequire(join(infraDir, 'package.json'));
  const fromCli = createRequire(fromInfra.resolve('cdktf-cli/package.json'));
  const printError = console.error;
  console.error = () => {}; // the binding's loader prints its own failure before throwing
  try {
    fromCli('@cdktf/node-pty-prebuilt-multiarch');
  } catch {
    throw new Error(
      `The cdktf CLI cannot start on Node ${process.version}: its terminal binding ` +
        `@cdktf/node-pty-prebuilt-multiarch has no build for this Node's ABI (${process.versions.modules}). ` +
        'See docs/infrastructure.md, "Running the cdktf CLI on Node 24".',
    );
  } finally {
    console.error = printError;
  }
}

const report = new Report(
  'synth',
  'Synth: pnpm synth against the cdktf CLI',
  'Every stack synthesized by `pnpm synth` (tsx src/main.ts) and by `cdktf synth` (the same app from cdktf.json), ' +
    'taking turns; peak memory is the resident set of the whole process tree, sampled from /proc every 10 ms. ' +
    'Both outputs are compared, so the two measure the same work.',
);

async function main() {
  if (!readdirSync('/proc').some((entry) => entry === 'self')) {
    throw new Error('this benchmark samples memory from /proc (Linux)');
  }
  checkCliCanStart();
  const results = new Map<string, Measurement[]>(contenders.map((c) => [c.name, []]));
  // One warm-up each (file cache, tsx's transform cache), then alternate so drift hits both alike.
  for (const contender of contenders) await measure(contender);
  for (let round = 0; round < rounds; round += 1) {
    for (const contender of round % 2 ? [...contenders].reverse() : contenders) {
      results.get(contender.name)!.push(await measure(contender));
    }
  }

  const ours = synthesized(contenders[0]!.outdir);
  const cli = synthesized(contenders[1]!.outdir);
  const same = ours.size === cli.size && [...ours].every(([stack, json]) => cli.get(stack) === json);

  const rows = contenders.map((c) => {
    const runs = results.get(c.name)!;
    return {
      name: c.name,
      wall: median(runs.map((r) => r.wallMs)),
      best: Math.min(...runs.map((r) => r.wallMs)),
      rss: median(runs.map((r) => r.peakRssBytes)),
      processes: Math.max(...runs.map((r) => r.processes)),
    };
  });
  report.table(
    `Synth of ${ours.size} stacks (${[...ours.keys()].join(', ')}), ${rounds} runs each after one warm-up; outputs identical: ${same}`,
    ['', 'wall (median)', 'wall (best)', 'peak RSS of the process tree (median)', 'processes'],
    [
      ...rows.map((r) => [
        r.name,
        inSeconds(r.wall),
        inSeconds(r.best),
        megabytes(r.rss),
        String(r.processes),
      ]),
      [
        'cdktf CLI ÷ pnpm synth',
        ratio(rows[1]!.wall / rows[0]!.wall),
        ratio(rows[1]!.best / rows[0]!.best),
        ratio(rows[1]!.rss / rows[0]!.rss),
        '',
      ],
    ],
  );
  report.finish();
  rmSync(work, { recursive: true, force: true });
  if (!same) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  rmSync(work, { recursive: true, force: true });
  process.exitCode = 1;
});
