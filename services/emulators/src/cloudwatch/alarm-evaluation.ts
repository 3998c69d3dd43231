import type { ComparisonOperator, TreatMissingData } from '@mc-vision/core';
import { computeStatistic, periodStart, type MetricDatum } from './statistics.ts';

// One evaluation of a metric alarm, as CloudWatch documents it ("How alarm state is evaluated when data is
// missing", AlarmThatSendsEmail): pure, with the clock passed in.
//
// - CloudWatch retrieves more datapoints than Evaluation Periods (N): the evaluation range. Its exact size is
//   not documented; the documented examples use 5 for N = 3, so here it is N + max(2, floor(N / 3)), over the
//   complete periods before `now`.
// - With at least N real datapoints in the range, the most recent N real ones are evaluated and the missing
//   ones do not matter. With fewer, `breaching` / `notBreaching` fill the gap with as few datapoints as
//   needed (every real one counts); `missing` and `ignore` evaluate the real ones alone: ALARM with at least
//   M (Datapoints to Alarm) breaching, OK when a real one is not breaching, and otherwise undecided:
//   `missing` goes to ALARM when the oldest breaching datapoint is at least M periods old with nothing but
//   breaching or missing ones after it (the "premature transition" rule), else INSUFFICIENT_DATA; `ignore`
//   keeps the current state.
// - With no datapoint at all: `missing` → INSUFFICIENT_DATA, `ignore` → current state, `breaching` → ALARM,
//   `notBreaching` → OK.

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
// CloudWatch's own vocabulary, named once in core's monitoring definition.
export type { ComparisonOperator, TreatMissingData };

/** What an evaluation reads of an alarm. */
export interface EvaluatedAlarm {
  /** `Sum`, `Average`, ... or `p95`. */
  statistic: string;
  period: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  threshold: number;
  comparison: ComparisonOperator;
  treatMissingData: TreatMissingData;
  state: AlarmState;
}

export interface EvaluatedDatapoint {
  /** The period's start, epoch milliseconds. */
  timestamp: number;
  value: number;
}

export interface Evaluation {
  state: AlarmState;
  /** CloudWatch's StateReason text. */
  reason: string;
  /** CloudWatch's StateReasonData (a JSON object). */
  reasonData: Record<string, unknown>;
}

const comparisons: Record<ComparisonOperator, { test: (v: number, t: number) => boolean; text: string }> = {
  GreaterThanThreshold: { test: (v, t) => v > t, text: 'greater than' },
  GreaterThanOrEqualToThreshold: { test: (v, t) => v >= t, text: 'greater than or equal to' },
  LessThanThreshold: { test: (v, t) => v < t, text: 'less than' },
  LessThanOrEqualToThreshold: { test: (v, t) => v <= t, text: 'less than or equal to' },
};

const missingNames: Record<TreatMissingData, string> = {
  breaching: 'Breaching',
  notBreaching: 'NonBreaching',
  ignore: 'Ignore',
  missing: 'Missing',
};

/** The number of periods CloudWatch looks at for an alarm of N evaluation periods. */
export function evaluationRange(evaluationPeriods: number): number {
  return evaluationPeriods + Math.max(2, Math.floor(evaluationPeriods / 3));
}

/** CloudWatch's timestamps in alarm texts: `2024-05-21T09:31:00.000+0000`. */
export function cloudWatchTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** `1.0`, `0.25`: numbers as CloudWatch prints them in reasons. */
function number(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

/** `21/05/24 09:31:00`, the datapoint dates of a reason. */
function shortDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Evaluates `alarm` over its metric's `data` (any time range; only the evaluation range before `now` counts).
 */
export function evaluate(alarm: EvaluatedAlarm, data: readonly MetricDatum[], now: number): Evaluation {
  const periodMs = alarm.period * 1000;
  const rangeSize = evaluationRange(alarm.evaluationPeriods);
  const end = periodStart(now, alarm.period);
  const start = end - rangeSize * periodMs;
  // Oldest first; undefined where the period has no data.
  const range: { timestamp: number; value: number | undefined; sampleCount: number }[] = [];
  for (let i = 0; i < rangeSize; i += 1) {
    const from = start + i * periodMs;
    const inPeriod = data.filter((datum) => datum.timestamp >= from && datum.timestamp < from + periodMs);
    range.push({
      timestamp: from,
      value: computeStatistic(inPeriod, alarm.statistic),
      sampleCount: computeStatistic(inPeriod, 'SampleCount') ?? 0,
    });
  }
  const { test, text } = comparisons[alarm.comparison];
  const breaches = (value: number) => test(value, alarm.threshold);
  const real = range.filter((point) => point.value !== undefined) as {
    timestamp: number;
    value: number;
    sampleCount: number;
  }[];
  const n = alarm.evaluationPeriods;
  const m = alarm.datapointsToAlarm;
  const evaluated = real.slice(-n);

  const reasonData = {
    version: '1.0',
    queryDate: cloudWatchTime(now),
    startDate: cloudWatchTime(evaluated[0]?.timestamp ?? start),
    [alarm.statistic.startsWith('p') ? 'extendedStatistic' : 'statistic']: alarm.statistic,
    period: alarm.period,
    recentDatapoints: evaluated.map((point) => point.value),
    threshold: alarm.threshold,
    evaluatedDatapoints: [...evaluated].reverse().map((point) => ({
      timestamp: cloudWatchTime(point.timestamp),
      sampleCount: point.sampleCount,
      value: point.value,
    })),
  };
  const result = (state: AlarmState, reason: string): Evaluation => ({ state, reason, reasonData });
  const transition = (to: AlarmState) => `${alarm.state} -> ${to}`;
  const listed = (points: { timestamp: number; value: number }[]) =>
    points.map((point) => `${number(point.value)} (${shortDate(point.timestamp)})`).join(', ');

  /** ALARM or OK from the breaching datapoints among `count` evaluated, `filled` of them missing ones. */
  const decide = (points: typeof evaluated, count: number, filledBreaching: number, filled: number) => {
    const breaching = points.filter((point) => breaches(point.value));
    const breachingCount = breaching.length + filledBreaching;
    const to: AlarmState = breachingCount >= m ? 'ALARM' : 'OK';
    const shown = to === 'ALARM' ? breaching : points.filter((point) => !breaches(point.value));
    const counted = to === 'ALARM' ? breachingCount : count - breachingCount;
    const fills =
      filled > 0
        ? ` and ${plural(filled, 'missing datapoint')} ${filled === 1 ? 'was' : 'were'} treated as [${missingNames[alarm.treatMissingData]}]`
        : '';
    return result(
      to,
      `Threshold Crossed: ${counted} out of the last ${count} datapoints [${listed(shown)}] ` +
        `${counted === 1 ? 'was' : 'were'} ${to === 'ALARM' ? '' : 'not '}${text} the threshold (${number(alarm.threshold)})` +
        `${fills} (minimum ${plural(m, 'datapoint')} for ${transition(to === 'ALARM' ? 'ALARM' : 'OK')} transition).`,
    );
  };

  if (real.length === 0) {
    const missingText = `no datapoints were received for ${plural(n, 'period')} and ${plural(n, 'missing datapoint')} ${n === 1 ? 'was' : 'were'} treated as [${missingNames[alarm.treatMissingData]}].`;
    switch (alarm.treatMissingData) {
      case 'missing':
        return result(
          'INSUFFICIENT_DATA',
          `Insufficient Data: ${plural(n, 'datapoint')} ${n === 1 ? 'was' : 'were'} unknown.`,
        );
      case 'ignore':
        return result(alarm.state, `Threshold Crossed: ${missingText}`);
      case 'breaching':
        return result('ALARM', `Threshold Crossed: ${missingText}`);
      case 'notBreaching':
        return result('OK', `Threshold Crossed: ${missingText}`);
    }
  }
  if (real.length >= n) return decide(evaluated, n, 0, 0);

  const filled = n - real.length;
  if (alarm.treatMissingData === 'breaching') return decide(real, n, filled, filled);
  if (alarm.treatMissingData === 'notBreaching') return decide(real, n, 0, filled);

  // `missing` and `ignore`: the real datapoints alone.
  const breaching = real.filter((point) => breaches(point.value));
  if (breaching.length >= m || breaching.length < real.length) return decide(real, real.length, 0, 0);
  if (alarm.treatMissingData === 'missing') {
    const oldest = range.findIndex((point) => point.value !== undefined);
    const age = range.length - oldest;
    if (age >= m) return decide(real, m, m - breaching.length, 0);
    return result(
      'INSUFFICIENT_DATA',
      `Insufficient Data: ${plural(n - real.length, 'datapoint')} ${n - real.length === 1 ? 'was' : 'were'} unknown.`,
    );
  }
  return result(
    alarm.state,
    `Threshold Crossed: ${plural(real.length, 'datapoint')} ${real.length === 1 ? 'was' : 'were'} ${text} the threshold (${number(alarm.threshold)}) and the others were ignored.`,
  );
}
