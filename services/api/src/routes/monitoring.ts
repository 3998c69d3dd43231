import {
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type MetricAlarm,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import {
  alarmNameSchema,
  monitoringAlarmHistoryResponseSchema,
  monitoringAlarmsResponseSchema,
  monitoringDashboardQuerySchema,
  monitoringDashboardResponseSchema,
  type MonitoringAlarm,
  type MonitoringDashboardResponse,
} from '@mc-vision/core';
import { Router } from 'express';
import * as z from 'zod';
import type { RouteDependencies } from '../deps.ts';
import { notFound } from '../errors.ts';
import { parseInput, sendValidated } from '../validation.ts';

// The dashboard's data and the alarms' states, read from CloudWatch through its SDK client: the real service in
// the cloud, the local cloud's on a laptop. The widgets are core's monitoring definition (the dashboard infra
// renders); the alarms are what CloudWatch says of the definition's alarms, never this process's config.

/** At most this many points per series: a longer range gets a longer period (a multiple of the widgets'). */
const maxPoints = 360;

const iso = (date: Date | number) => new Date(date).toISOString();

/** Every GetMetricData page, by query id. */
async function metricData(
  deps: RouteDependencies,
  queries: MetricDataQuery[],
  start: Date,
  end: Date,
): Promise<Map<string, MetricDataResult>> {
  const results = new Map<string, MetricDataResult>();
  let NextToken: string | undefined;
  do {
    const page = await deps.cloudwatch.send(
      new GetMetricDataCommand({
        MetricDataQueries: queries,
        StartTime: start,
        EndTime: end,
        ScanBy: 'TimestampAscending',
        NextToken,
      }),
    );
    for (const result of page.MetricDataResults ?? []) {
      const seen = results.get(result.Id!);
      results.set(
        result.Id!,
        seen
          ? {
              ...seen,
              Timestamps: [...(seen.Timestamps ?? []), ...(result.Timestamps ?? [])],
              Values: [...(seen.Values ?? []), ...(result.Values ?? [])],
            }
          : result,
      );
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return results;
}

/** The alarm as the contract shows it: CloudWatch's configuration and state. */
function toAlarm(alarm: MetricAlarm): MonitoringAlarm {
  return {
    name: alarm.AlarmName ?? '',
    ...(alarm.AlarmDescription ? { description: alarm.AlarmDescription } : {}),
    state: alarm.StateValue ?? 'INSUFFICIENT_DATA',
    reason: alarm.StateReason ?? '',
    since: iso(alarm.StateTransitionedTimestamp ?? alarm.StateUpdatedTimestamp ?? 0),
    metric: {
      namespace: alarm.Namespace ?? '',
      name: alarm.MetricName ?? '',
      dimensions: Object.fromEntries((alarm.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? ''])),
    },
    statistic: alarm.ExtendedStatistic ?? alarm.Statistic ?? '',
    comparison: alarm.ComparisonOperator ?? '',
    threshold: alarm.Threshold ?? 0,
    period: alarm.Period ?? 60,
    evaluationPeriods: alarm.EvaluationPeriods ?? 1,
    datapointsToAlarm: alarm.DatapointsToAlarm ?? alarm.EvaluationPeriods ?? 1,
    treatMissingData: alarm.TreatMissingData ?? 'missing',
  };
}

const historyParamsSchema = z.object({ name: alarmNameSchema });

export function monitoringRoutes(deps: RouteDependencies): Router {
  const router = Router();
  const { dashboard, alarms } = deps.monitoring;
  const alarmNames = alarms.map((alarm) => alarm.name);
  // On a laptop every alarm runs on MONITORING_PERIOD_SECONDS; the widgets follow it.
  const basePeriod = deps.config.MONITORING_PERIOD_SECONDS ?? dashboard.period;

  router.get('/v1/monitoring/dashboard', async (req, res) => {
    const { minutes } = parseInput(monitoringDashboardQuerySchema, req.query, 'query');
    const rangeSeconds = minutes * 60;
    const period = basePeriod * Math.max(1, Math.ceil(rangeSeconds / basePeriod / maxPoints));
    const end = new Date(Math.ceil(Date.now() / (period * 1000)) * period * 1000);
    const start = new Date(end.getTime() - rangeSeconds * 1000);
    const id = (widget: number, line: number) => `w${widget}_${line}`;
    const queries: MetricDataQuery[] = dashboard.widgets.flatMap((widget, w) =>
      widget.metrics.map((metric, l) => ({
        Id: id(w, l),
        Label: metric.label,
        MetricStat: {
          Metric: {
            Namespace: metric.namespace,
            MetricName: metric.name,
            Dimensions: Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
          },
          Period: period,
          Stat: metric.statistic,
        },
      })),
    );
    const results = await metricData(deps, queries, start, end);
    const body: MonitoringDashboardResponse = {
      name: dashboard.name,
      period,
      start: iso(start),
      end: iso(end),
      widgets: dashboard.widgets.map((widget, w) => ({
        id: widget.id,
        title: widget.title,
        unit: widget.unit,
        series: widget.metrics.map((metric, l) => {
          const result = results.get(id(w, l));
          const timestamps = result?.Timestamps ?? [];
          return {
            label: metric.label,
            namespace: metric.namespace,
            name: metric.name,
            dimensions: metric.dimensions,
            statistic: metric.statistic,
            points: timestamps
              .map((timestamp, i) => ({ timestamp: iso(timestamp), value: result?.Values?.[i] ?? 0 }))
              .sort((a, b) => a.timestamp.localeCompare(b.timestamp)),
          };
        }),
      })),
    };
    sendValidated(res, 200, monitoringDashboardResponseSchema, body);
  });

  router.get('/v1/monitoring/alarms', async (_req, res) => {
    // DescribeAlarms takes up to 100 names a call.
    const found: MetricAlarm[] = [];
    for (let i = 0; i < alarmNames.length; i += 100) {
      let NextToken: string | undefined;
      do {
        const page = await deps.cloudwatch.send(
          new DescribeAlarmsCommand({
            AlarmNames: alarmNames.slice(i, i + 100),
            AlarmTypes: ['MetricAlarm'],
            NextToken,
          }),
        );
        found.push(...(page.MetricAlarms ?? []));
        NextToken = page.NextToken;
      } while (NextToken);
    }
    const order = new Map(alarmNames.map((name, index) => [name, index]));
    found.sort((a, b) => (order.get(a.AlarmName ?? '') ?? 0) - (order.get(b.AlarmName ?? '') ?? 0));
    sendValidated(res, 200, monitoringAlarmsResponseSchema, { alarms: found.map(toAlarm) });
  });

  router.get('/v1/monitoring/alarms/:name/history', async (req, res) => {
    const { name } = parseInput(historyParamsSchema, req.params, 'path');
    if (!alarmNames.includes(name)) throw notFound(`alarm ${name}`);
    const { AlarmHistoryItems = [] } = await deps.cloudwatch.send(
      new DescribeAlarmHistoryCommand({ AlarmName: name, MaxRecords: 50, ScanBy: 'TimestampDescending' }),
    );
    sendValidated(res, 200, monitoringAlarmHistoryResponseSchema, {
      name,
      items: AlarmHistoryItems.filter((item) =>
        ['ConfigurationUpdate', 'StateUpdate', 'Action'].includes(item.HistoryItemType ?? ''),
      ).map((item) => ({
        timestamp: iso(item.Timestamp ?? 0),
        type: item.HistoryItemType as 'ConfigurationUpdate' | 'StateUpdate' | 'Action',
        summary: item.HistorySummary ?? '',
      })),
    });
  });

  return router;
}
