import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../aws-json/index.ts';
import type { AlarmState, ComparisonOperator, TreatMissingData } from './alarm-evaluation.ts';
import type { MetricDatum } from './statistics.ts';

// What the CloudWatch emulator keeps under its data folder, so a restart loses nothing:
// - metrics.jsonl: one line per datum (namespace, metric, dimensions, timestamp, values or statistic set),
//   appended as data arrives; data older than the retention is dropped when the store opens. A line cut short
//   by a crash is skipped.
// - alarms.json: every alarm's configuration and state, and the alarms' history, written atomically.

export interface Dimension {
  Name: string;
  Value: string;
}

export interface MetricIdentity {
  namespace: string;
  name: string;
  /** Sorted by name: CloudWatch tells metrics apart by the exact set. */
  dimensions: Dimension[];
}

export interface AlarmConfig {
  AlarmName: string;
  AlarmDescription?: string;
  ActionsEnabled: boolean;
  OKActions: string[];
  AlarmActions: string[];
  InsufficientDataActions: string[];
  Namespace: string;
  MetricName: string;
  Dimensions: Dimension[];
  Statistic?: string;
  ExtendedStatistic?: string;
  Period: number;
  Unit?: string;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  Threshold: number;
  ComparisonOperator: ComparisonOperator;
  TreatMissingData?: TreatMissingData;
}

export interface StoredAlarm {
  config: AlarmConfig;
  arn: string;
  /** Epoch milliseconds. */
  configUpdated: number;
  state: AlarmState;
  stateReason: string;
  stateReasonData?: string;
  stateUpdated: number;
  stateTransitioned: number;
}

export type HistoryItemType = 'ConfigurationUpdate' | 'StateUpdate' | 'Action';

export interface HistoryItem {
  AlarmName: string;
  AlarmType: 'MetricAlarm';
  /** Epoch milliseconds. */
  Timestamp: number;
  HistoryItemType: HistoryItemType;
  HistorySummary: string;
  HistoryData: string;
}

const dimension = z.object({ Name: z.string(), Value: z.string() });
const datumLine = z.object({
  ns: z.string(),
  n: z.string(),
  d: z.array(dimension),
  t: z.number(),
  u: z.string().optional(),
  v: z.array(z.number()).optional(),
  c: z.array(z.number()).optional(),
  s: z
    .object({ SampleCount: z.number(), Sum: z.number(), Minimum: z.number(), Maximum: z.number() })
    .optional(),
});
type DatumLine = z.infer<typeof datumLine>;

const alarmsFile = z.object({
  alarms: z.array(z.looseObject({ config: z.looseObject({ AlarmName: z.string() }), arn: z.string() })),
  history: z.array(z.looseObject({ AlarmName: z.string(), Timestamp: z.number() })),
});

/** Metrics, like CloudWatch's high-resolution data, are kept for 15 days; alarm history for 30. */
export const metricRetentionMs = 15 * 86_400_000;
export const historyRetentionMs = 30 * 86_400_000;

export function metricKey(identity: MetricIdentity): string {
  return JSON.stringify([identity.namespace, identity.name, identity.dimensions]);
}

export function sortedDimensions(dimensions: readonly Dimension[]): Dimension[] {
  return [...dimensions].sort((a, b) => a.Name.localeCompare(b.Name));
}

export class CloudWatchStore {
  readonly alarms = new Map<string, StoredAlarm>();
  private history: HistoryItem[] = [];
  private readonly series = new Map<
    string,
    { identity: MetricIdentity; data: MetricDatum[]; last: number }
  >();
  private readonly dir: string;
  private pendingLines: string[] = [];
  private writing: Promise<void> = Promise.resolve();

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async open(dir: string, now: number = Date.now()): Promise<CloudWatchStore> {
    await mkdir(dir, { recursive: true });
    const store = new CloudWatchStore(dir);
    const text = await readFile(join(dir, 'metrics.jsonl'), 'utf8').catch(() => '');
    let dropped = 0;
    for (const line of text.split('\n')) {
      if (!line) continue;
      const parsed = datumLine.safeParse(safeJson(line));
      if (!parsed.success || parsed.data.t < now - metricRetentionMs) {
        dropped += 1;
        continue;
      }
      store.add(parsed.data);
    }
    if (dropped > 0) {
      await writeFileAtomic(join(dir, 'metrics.jsonl'), [...store.lines()].map((l) => `${l}\n`).join(''));
    }
    const alarms = alarmsFile.safeParse(
      safeJson(await readFile(join(dir, 'alarms.json'), 'utf8').catch(() => '')),
    );
    if (alarms.success) {
      for (const alarm of alarms.data.alarms as unknown as StoredAlarm[])
        store.alarms.set(alarm.config.AlarmName, alarm);
      store.history = (alarms.data.history as unknown as HistoryItem[]).filter(
        (item) => item.Timestamp >= now - historyRetentionMs,
      );
    }
    return store;
  }

  /** Keeps datapoints (in memory at once, on disk shortly after). */
  put(identity: MetricIdentity, datum: MetricDatum): void {
    const line: DatumLine = {
      ns: identity.namespace,
      n: identity.name,
      d: sortedDimensions(identity.dimensions),
      t: datum.timestamp,
      ...(datum.unit ? { u: datum.unit } : {}),
      ...('statisticValues' in datum ? { s: datum.statisticValues } : { v: datum.values, c: datum.counts }),
    };
    this.add(line);
    this.pendingLines.push(JSON.stringify(line));
    if (this.pendingLines.length === 1) {
      this.writing = this.writing.then(() => this.writePending());
    }
  }

  /** The metric's datapoints, oldest first. */
  data(identity: MetricIdentity): MetricDatum[] {
    return (
      this.series.get(metricKey({ ...identity, dimensions: sortedDimensions(identity.dimensions) }))?.data ??
      []
    );
  }

  /** Every metric, with the time of its latest datapoint. */
  metrics(): { identity: MetricIdentity; lastTimestamp: number }[] {
    return [...this.series.values()].map(({ identity, last }) => ({ identity, lastTimestamp: last }));
  }

  addHistory(item: HistoryItem): void {
    this.history.push(item);
  }

  historyItems(): readonly HistoryItem[] {
    return this.history;
  }

  removeAlarm(name: string): void {
    this.alarms.delete(name);
    this.history = this.history.filter((item) => item.AlarmName !== name);
  }

  /** Writes the alarms and their history (atomically). */
  async saveAlarms(): Promise<void> {
    const body = JSON.stringify({ alarms: [...this.alarms.values()], history: this.history });
    this.writing = this.writing.then(() => writeFileAtomic(join(this.dir, 'alarms.json'), body));
    await this.writing;
  }

  /** Waits until everything kept so far is on disk. */
  async flush(): Promise<void> {
    await this.writing;
  }

  private add(line: DatumLine): void {
    const identity: MetricIdentity = { namespace: line.ns, name: line.n, dimensions: line.d };
    const key = metricKey(identity);
    let series = this.series.get(key);
    if (!series) {
      series = { identity, data: [], last: 0 };
      this.series.set(key, series);
    }
    const datum: MetricDatum = line.s
      ? { timestamp: line.t, statisticValues: line.s, ...(line.u ? { unit: line.u } : {}) }
      : {
          timestamp: line.t,
          values: line.v ?? [],
          counts: line.c ?? [],
          ...(line.u ? { unit: line.u } : {}),
        };
    // Datapoints arrive nearly in order (a request's is published when it ends, stamped when it began):
    // the place of a late one is found from the end, not by sorting the whole series again.
    let at = series.data.length;
    while (at > 0 && series.data[at - 1]!.timestamp > line.t) at--;
    series.data.splice(at, 0, datum);
    series.last = Math.max(series.last, line.t);
  }

  private *lines(): Generator<string> {
    for (const { identity, data } of this.series.values()) {
      for (const datum of data) {
        yield JSON.stringify({
          ns: identity.namespace,
          n: identity.name,
          d: identity.dimensions,
          t: datum.timestamp,
          ...(datum.unit ? { u: datum.unit } : {}),
          ...('statisticValues' in datum
            ? { s: datum.statisticValues }
            : { v: datum.values, c: datum.counts }),
        });
      }
    }
  }

  private async writePending(): Promise<void> {
    // Coalesced: what arrives while one append is in flight goes out with the next one.
    while (this.pendingLines.length > 0) {
      const batch = this.pendingLines.splice(0);
      try {
        await appendFile(join(this.dir, 'metrics.jsonl'), batch.map((line) => `${line}\n`).join(''));
      } catch (error) {
        console.error(`cloudwatch emulator: could not keep ${batch.length} datapoints: ${String(error)}`);
      }
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
