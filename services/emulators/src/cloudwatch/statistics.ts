// CloudWatch's statistics over the datapoints of one period: Sum, Average, Minimum, Maximum, SampleCount and
// percentiles (pNN, pNN.N). A datum is what PutMetricData (or an embedded-metric-format line) stored: values
// with their counts, or a statistic set. Percentiles need the values themselves, so a period whose data holds
// only statistic sets has no percentile, as in CloudWatch.

export interface ValuesDatum {
  /** Epoch milliseconds. */
  timestamp: number;
  values: number[];
  /** How many times each value occurred (default 1 each). */
  counts: number[];
  unit?: string;
}

export interface StatisticSetDatum {
  timestamp: number;
  statisticValues: { SampleCount: number; Sum: number; Minimum: number; Maximum: number };
  unit?: string;
}

export type MetricDatum = ValuesDatum | StatisticSetDatum;

export const basicStatistics = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'] as const;
export type BasicStatistic = (typeof basicStatistics)[number];

/** `p95`, `p99.9`, `p0.5` as CloudWatch writes them (0-100, up to two decimals). */
const percentilePattern = /^p(\d{1,2}(\.\d{1,2})?|100)$/;

export function isStatistic(statistic: string): boolean {
  return (basicStatistics as readonly string[]).includes(statistic) || percentilePattern.test(statistic);
}

/** The statistic of the data, or `undefined` when there is none (a missing datapoint). */
export function computeStatistic(data: readonly MetricDatum[], statistic: string): number | undefined {
  let sampleCount = 0;
  let sum = 0;
  let minimum = Infinity;
  let maximum = -Infinity;
  const samples: { value: number; count: number }[] = [];
  for (const datum of data) {
    if ('statisticValues' in datum) {
      const set = datum.statisticValues;
      sampleCount += set.SampleCount;
      sum += set.Sum;
      minimum = Math.min(minimum, set.Minimum);
      maximum = Math.max(maximum, set.Maximum);
      continue;
    }
    datum.values.forEach((value, index) => {
      const count = datum.counts[index] ?? 1;
      if (count <= 0) return;
      sampleCount += count;
      sum += value * count;
      minimum = Math.min(minimum, value);
      maximum = Math.max(maximum, value);
      samples.push({ value, count });
    });
  }
  if (sampleCount === 0) return undefined;
  switch (statistic) {
    case 'SampleCount':
      return sampleCount;
    case 'Sum':
      return sum;
    case 'Average':
      return sum / sampleCount;
    case 'Minimum':
      return minimum;
    case 'Maximum':
      return maximum;
  }
  if (!percentilePattern.test(statistic)) throw new Error(`not a statistic: ${statistic}`);
  return percentile(samples, Number(statistic.slice(1)));
}

/** Nearest rank: the smallest value with at least `p`% of the samples at or below it. */
function percentile(samples: { value: number; count: number }[], p: number): number | undefined {
  const total = samples.reduce((n, sample) => n + sample.count, 0);
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const sample of [...samples].sort((a, b) => a.value - b.value)) {
    seen += sample.count;
    if (seen >= rank) return sample.value;
  }
  return undefined;
}

/** The start of the period `timestamp` falls in: periods are aligned to multiples of their length. */
export function periodStart(timestamp: number, periodSeconds: number): number {
  const ms = periodSeconds * 1000;
  return Math.floor(timestamp / ms) * ms;
}

/** The statistic per period over [start, end): period start → value, for the periods that have data. */
export function statisticByPeriod(
  data: readonly MetricDatum[],
  statistic: string,
  periodSeconds: number,
  start: number,
  end: number,
): Map<number, number> {
  const buckets = new Map<number, MetricDatum[]>();
  for (const datum of data) {
    if (datum.timestamp < start || datum.timestamp >= end) continue;
    const bucket = periodStart(datum.timestamp, periodSeconds);
    const list = buckets.get(bucket) ?? [];
    list.push(datum);
    buckets.set(bucket, list);
  }
  const values = new Map<number, number>();
  for (const [bucket, list] of [...buckets].sort(([a], [b]) => a - b)) {
    const value = computeStatistic(list, statistic);
    if (value !== undefined) values.set(bucket, value);
  }
  return values;
}
