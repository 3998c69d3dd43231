// What one benchmark hands the runner: tables of figures and the targets it checks, as JSON in
// bench/results/<name>.json. run.ts renders every result into docs/benchmarks.md.
import { writeFileSync } from 'node:fs';
import * as z from 'zod';

const tableSchema = z.object({
  title: z.string(),
  columns: z.array(z.string()),
  rows: z.array(z.array(z.string())),
});

const targetSchema = z.object({
  /** What is measured, e.g. `API bundle: module load ÷ bare bundle`. */
  what: z.string(),
  /** The target as written, e.g. `≤ 2.0×`. */
  target: z.string(),
  measured: z.string(),
  met: z.boolean(),
  /** Where a target is missed: what the profile shows bounds it. */
  evidence: z.string().optional(),
});

export const benchResultSchema = z.object({
  name: z.string(),
  title: z.string(),
  /** What is compared with what, in a sentence or two. */
  summary: z.string(),
  seconds: z.number(),
  tables: z.array(tableSchema),
  targets: z.array(targetSchema),
  notes: z.array(z.string()),
});

export type BenchTable = z.infer<typeof tableSchema>;
export type BenchTarget = z.infer<typeof targetSchema>;
export type BenchResult = z.infer<typeof benchResultSchema>;

/** A benchmark's figures as it collects them; `finish()` writes them where the runner asked (BENCH_OUT). */
export class Report {
  private readonly started = performance.now();
  private readonly result: Omit<BenchResult, 'seconds'>;

  constructor(name: string, title: string, summary: string) {
    this.result = { name, title, summary, tables: [], targets: [], notes: [] };
    console.log(`\n## ${title}\n`);
  }

  table(title: string, columns: string[], rows: string[][]): void {
    this.result.tables.push({ title, columns, rows });
    printTable(title, columns, rows);
  }

  /** A target: `measured` against `limit` (smaller is better unless `atLeast`). */
  target(
    what: string,
    measured: number,
    limit: number,
    format: (value: number) => string,
    options: { atLeast?: boolean; evidence?: string } = {},
  ): boolean {
    const met = options.atLeast ? measured >= limit : measured <= limit;
    const target = {
      what,
      target: `${options.atLeast ? '≥' : '≤'} ${format(limit)}`,
      measured: format(measured),
      met,
    };
    this.result.targets.push(!met && options.evidence ? { ...target, evidence: options.evidence } : target);
    console.log(`${met ? 'met    ' : 'NOT MET'}  ${what}: ${target.measured} (target ${target.target})`);
    return met;
  }

  note(text: string): void {
    this.result.notes.push(text);
    console.log(text);
  }

  finish(): BenchResult {
    const result = benchResultSchema.parse({
      ...this.result,
      seconds: Math.round((performance.now() - this.started) / 100) / 10,
    });
    const out = process.env.BENCH_OUT;
    if (out) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  }
}

function printTable(title: string, columns: string[], rows: string[][]): void {
  const all = [columns, ...rows];
  const widths = columns.map((_, c) => Math.max(...all.map((row) => (row[c] ?? '').length)));
  const line = (row: string[]) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ');
  console.log(`${title}\n${line(columns)}\n${widths.map((w) => '─'.repeat(w)).join('───')}`);
  for (const row of rows) console.log(line(row));
  console.log();
}

// ---- figures ----

/** The `p`th percentile (nearest rank) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const median = (values: readonly number[]) => percentile(values, 50);
export const ms = (value: number, digits = 1) => `${value.toFixed(digits)} ms`;
export const seconds = (value: number) => `${(value / 1000).toFixed(2)} s`;
export const ratio = (value: number) => `${value.toFixed(2)}×`;
export const megabytes = (bytes: number) => `${(bytes / 1_000_000).toFixed(2)} MB`;
export const perSecond = (value: number) => `${value.toFixed(value < 100 ? 1 : 0)}/s`;
export const count = (value: number) => value.toLocaleString('en');
