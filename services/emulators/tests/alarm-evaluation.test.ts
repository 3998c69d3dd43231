import { describe, expect, it } from '@jest/globals';
import {
  evaluate,
  evaluationRange,
  type AlarmState,
  type EvaluatedAlarm,
  type TreatMissingData,
} from '../src/cloudwatch/alarm-evaluation.ts';
import type { MetricDatum } from '../src/cloudwatch/statistics.ts';

// CloudWatch's documented examples (AlarmThatSendsEmail, "How alarm state is evaluated when data is
// missing"): the 5 most recent datapoints, oldest first; 0 is not breaching, X breaching, - missing.

const period = 60;
const now = Date.UTC(2025, 0, 1, 12, 0, 30); // 30 s into a period: the last complete one ended at 12:00
const end = Date.UTC(2025, 0, 1, 12, 0, 0);

function data(pattern: string): MetricDatum[] {
  const points = pattern.split(' ');
  return points.flatMap((point, index) => {
    if (point === '-') return [];
    const timestamp = end - (points.length - index) * period * 1000 + 5_000;
    return [{ timestamp, values: [point === 'X' ? 10 : 0], counts: [1] }];
  });
}

function alarm(m: number, treatMissingData: TreatMissingData, state: AlarmState = 'OK'): EvaluatedAlarm {
  return {
    statistic: 'Maximum',
    period,
    evaluationPeriods: 3,
    datapointsToAlarm: m,
    threshold: 5,
    comparison: 'GreaterThanThreshold',
    treatMissingData,
    state,
  };
}

const treatments: TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];
const retain = 'retain';

describe('evaluate (pure, the clock passed in)', () => {
  it('looks at 5 periods for 3 evaluation periods, as the documented examples do', () => {
    expect(evaluationRange(3)).toBe(5);
    expect(evaluationRange(1)).toBe(3);
    expect(evaluationRange(12)).toBe(16);
  });

  it.each([
    ['0 - X - X', ['OK', 'OK', 'OK', 'OK']],
    ['0 - - - -', ['OK', 'OK', 'OK', 'OK']],
    ['- - - - -', ['INSUFFICIENT_DATA', retain, 'ALARM', 'OK']],
    ['0 X X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['- - - - X', ['INSUFFICIENT_DATA', retain, 'ALARM', 'OK']],
    ['X - - - -', ['ALARM', retain, 'ALARM', 'OK']],
  ])('3 out of 3, %s: missing/ignore/breaching/notBreaching as documented', (pattern, expected) => {
    for (const [index, treatment] of treatments.entries()) {
      for (const current of ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const) {
        const { state } = evaluate(alarm(3, treatment, current), data(pattern), now);
        const want = expected[index] === retain ? current : expected[index];
        expect({ pattern, treatment, current, state }).toEqual({ pattern, treatment, current, state: want });
      }
    }
  });

  it.each([
    ['0 - X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 0 X 0 X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 - X - -', ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - - 0', ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - - X', ['INSUFFICIENT_DATA', retain, 'ALARM', 'OK']],
  ])('2 out of 3, %s: missing/ignore/breaching/notBreaching as documented', (pattern, expected) => {
    for (const [index, treatment] of treatments.entries()) {
      const { state } = evaluate(alarm(2, treatment, 'OK'), data(pattern), now);
      const want = expected[index] === retain ? 'OK' : expected[index];
      expect({ pattern, treatment, state }).toEqual({ pattern, treatment, state: want });
    }
  });

  it('ignores the period still in progress and data older than the range', () => {
    const current = [{ timestamp: end + 1_000, values: [10], counts: [1] }];
    const old = [{ timestamp: end - 10 * period * 1000, values: [10], counts: [1] }];
    expect(evaluate(alarm(3, 'missing'), [...current, ...old], now).state).toBe('INSUFFICIENT_DATA');
  });

  it("aggregates each period with the alarm's statistic", () => {
    // Sum 4 + 3 = 7 > 5 in the last period; the average, 3.5, is not.
    const points = [{ timestamp: end - 30_000, values: [4, 3], counts: [1, 1] }];
    const one = { ...alarm(1, 'notBreaching'), evaluationPeriods: 1 };
    expect(evaluate({ ...one, statistic: 'Sum' }, points, now).state).toBe('ALARM');
    expect(evaluate({ ...one, statistic: 'Average' }, points, now).state).toBe('OK');
    expect(evaluate({ ...one, statistic: 'p50' }, points, now).state).toBe('OK');
  });

  it("explains itself in CloudWatch's words, with the datapoints it used", () => {
    const one = { ...alarm(1, 'notBreaching'), evaluationPeriods: 1, statistic: 'Sum' };
    const points = [{ timestamp: end - 30_000, values: [7], counts: [1] }];
    const evaluation = evaluate(one, points, now);
    expect(evaluation).toEqual({
      state: 'ALARM',
      reason:
        'Threshold Crossed: 1 out of the last 1 datapoints [7.0 (01/01/25 11:59:00)] was greater than the ' +
        'threshold (5.0) (minimum 1 datapoint for OK -> ALARM transition).',
      reasonData: {
        version: '1.0',
        queryDate: '2025-01-01T12:00:30.000+0000',
        startDate: '2025-01-01T11:59:00.000+0000',
        statistic: 'Sum',
        period: 60,
        recentDatapoints: [7],
        threshold: 5,
        evaluatedDatapoints: [{ timestamp: '2025-01-01T11:59:00.000+0000', sampleCount: 1, value: 7 }],
      },
    });
    expect(evaluate(one, [], now).reason).toBe(
      'Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching].',
    );
  });
});
