import { z } from 'zod';
import {
  awsJsonActionFor,
  awsJsonProtocol,
  decodePageToken,
  encodePageToken,
  toEpochSeconds,
} from '../aws-json/index.ts';
import type { AlarmState } from './alarm-evaluation.ts';
import { isStatistic, statisticByPeriod, type MetricDatum } from './statistics.ts';
import {
  sortedDimensions,
  type AlarmConfig,
  type CloudWatchStore,
  type Dimension,
  type HistoryItem,
  type MetricIdentity,
  type StoredAlarm,
} from './store.ts';

// CloudWatch's actions on AWS JSON 1.0 (`X-Amz-Target: GraniteServiceVersion20100801.<Action>`, what
// @aws-sdk/client-cloudwatch 3.11xx speaks): PutMetricData, GetMetricData, ListMetrics, PutMetricAlarm,
// DescribeAlarms, DescribeAlarmHistory, DeleteAlarms. Timestamps are epoch seconds on the wire.

export const cloudWatchProtocol = awsJsonProtocol({
  targetPrefix: 'GraniteServiceVersion20100801',
  version: '1.0',
  maxBodyBytes: 1024 * 1024,
});

export interface CloudWatchContext {
  region: string;
  accountId: string;
  store: CloudWatchStore;
  now(): number;
  /** A new or changed alarm: evaluate it soon. */
  alarmChanged(name: string): void;
}

const action = awsJsonActionFor<CloudWatchContext>();
const invalid = (message: string) => cloudWatchProtocol.error('InvalidParameterValueException', message);
const missing = (message: string) => cloudWatchProtocol.error('MissingRequiredParameterException', message);

const dimensionSchema = z.object({ Name: z.string().min(1).max(255), Value: z.string().min(1).max(1024) });
const dimensions = z.array(dimensionSchema).max(30).optional();
const epochSeconds = z.number();

const metricDatum = z.looseObject({
  MetricName: z.string().min(1).max(255),
  Dimensions: dimensions,
  Timestamp: epochSeconds.optional(),
  Value: z.number().optional(),
  StatisticValues: z
    .object({ SampleCount: z.number(), Sum: z.number(), Minimum: z.number(), Maximum: z.number() })
    .optional(),
  Values: z.array(z.number()).max(150).optional(),
  Counts: z.array(z.number()).max(150).optional(),
  Unit: z.string().optional(),
  StorageResolution: z.number().int().optional(),
});

/** Metrics in `AWS/` namespaces are AWS's to publish: PutMetricData refuses them, as CloudWatch does. */
function checkNamespace(namespace: string): void {
  if (namespace.startsWith('AWS/')) {
    throw invalid(
      `The value ${namespace} for parameter Namespace is invalid: AWS/ is reserved for AWS services.`,
    );
  }
}

/** One datum of PutMetricData (or of an embedded-metric-format line) as the store keeps it. */
export function toDatum(input: z.infer<typeof metricDatum>, now: number): MetricDatum {
  const timestamp = input.Timestamp === undefined ? now : input.Timestamp * 1000;
  const unit = input.Unit ? { unit: input.Unit } : {};
  if (input.StatisticValues) return { timestamp, statisticValues: input.StatisticValues, ...unit };
  if (input.Values) {
    if (input.Counts && input.Counts.length !== input.Values.length) {
      throw invalid(
        'The parameters MetricData.member.Values and MetricData.member.Counts must be of the same size.',
      );
    }
    return { timestamp, values: input.Values, counts: input.Counts ?? input.Values.map(() => 1), ...unit };
  }
  if (input.Value === undefined) {
    throw missing('The parameter MetricData.member.Value, StatisticValues or Values is required.');
  }
  return { timestamp, values: [input.Value], counts: [1], ...unit };
}

const putMetricData = action(
  z.looseObject({ Namespace: z.string().min(1).max(255), MetricData: z.array(metricDatum).min(1).max(1000) }),
  async (context, request) => {
    checkNamespace(request.Namespace);
    const now = context.now();
    const data = request.MetricData.map((datum) => ({
      identity: { namespace: request.Namespace, name: datum.MetricName, dimensions: datum.Dimensions ?? [] },
      datum: toDatum(datum, now),
    }));
    for (const { identity, datum } of data) context.store.put(identity, datum);
    return {};
  },
);

const metricSchema = z.object({
  Namespace: z.string().min(1),
  MetricName: z.string().min(1),
  Dimensions: dimensions,
});

const getMetricData = action(
  z.looseObject({
    MetricDataQueries: z
      .array(
        z.looseObject({
          Id: z.string().regex(/^[a-z][a-zA-Z0-9_]*$/, 'must start with a lowercase letter'),
          MetricStat: z
            .object({
              Metric: metricSchema,
              Period: z.number().int().min(1),
              Stat: z.string(),
              Unit: z.string().optional(),
            })
            .optional(),
          Expression: z.string().optional(),
          Label: z.string().optional(),
          ReturnData: z.boolean().optional(),
        }),
      )
      .min(1)
      .max(500),
    StartTime: epochSeconds,
    EndTime: epochSeconds,
    ScanBy: z.enum(['TimestampDescending', 'TimestampAscending']).optional(),
    MaxDatapoints: z.number().int().min(1).optional(),
    NextToken: z.string().optional(),
  }),
  async (context, request) => {
    const start = request.StartTime * 1000;
    const end = request.EndTime * 1000;
    if (end <= start) throw invalid('The parameter StartTime must be less than the parameter EndTime.');
    const descending = (request.ScanBy ?? 'TimestampDescending') === 'TimestampDescending';
    const results = request.MetricDataQueries.filter((query) => query.ReturnData !== false).map((query) => {
      if (query.Expression !== undefined || !query.MetricStat) {
        throw invalid(
          'Metric math expressions are not supported by this emulator: give each query a MetricStat.',
        );
      }
      const { Metric, Period, Stat } = query.MetricStat;
      if (!isStatistic(Stat))
        throw invalid(`The value ${Stat} for parameter MetricDataQueries.member.MetricStat.Stat is invalid.`);
      const data = context.store.data({
        namespace: Metric.Namespace,
        name: Metric.MetricName,
        dimensions: Metric.Dimensions ?? [],
      });
      const points = [...statisticByPeriod(data, Stat, Period, start, end)];
      if (descending) points.reverse();
      return {
        Id: query.Id,
        Label: query.Label ?? Metric.MetricName,
        Timestamps: points.map(([timestamp]) => toEpochSeconds(timestamp)),
        Values: points.map(([, value]) => value),
        StatusCode: 'Complete',
        Messages: [],
      };
    });
    return { MetricDataResults: results, Messages: [] };
  },
);

const listPageSize = 500;

const listMetrics = action(
  z.looseObject({
    Namespace: z.string().optional(),
    MetricName: z.string().optional(),
    Dimensions: z
      .array(z.object({ Name: z.string().min(1), Value: z.string().optional() }))
      .max(10)
      .optional(),
    RecentlyActive: z.literal('PT3H').optional(),
    NextToken: z.string().optional(),
  }),
  async (context, request) => {
    const offset = request.NextToken ? Number(decodePageToken(request.NextToken)?.offset) : 0;
    if (!Number.isInteger(offset))
      throw invalid(`The value ${request.NextToken} for parameter NextToken is invalid.`);
    const since = request.RecentlyActive ? context.now() - 3 * 3_600_000 : -Infinity;
    const matching = context.store
      .metrics()
      .filter(({ identity, lastTimestamp }) => {
        if (lastTimestamp < since) return false;
        if (request.Namespace !== undefined && identity.namespace !== request.Namespace) return false;
        if (request.MetricName !== undefined && identity.name !== request.MetricName) return false;
        return (request.Dimensions ?? []).every((wanted) =>
          identity.dimensions.some(
            (d) => d.Name === wanted.Name && (wanted.Value === undefined || d.Value === wanted.Value),
          ),
        );
      })
      .map(({ identity }) => ({
        Namespace: identity.namespace,
        MetricName: identity.name,
        Dimensions: identity.dimensions,
      }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    const page = matching.slice(offset, offset + listPageSize);
    return {
      Metrics: page,
      ...(offset + listPageSize < matching.length
        ? { NextToken: encodePageToken({ offset: offset + listPageSize }) }
        : {}),
    };
  },
);

const comparison = z.enum([
  'GreaterThanThreshold',
  'GreaterThanOrEqualToThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
]);

const putMetricAlarm = action(
  z.looseObject({
    AlarmName: z.string().min(1).max(255),
    AlarmDescription: z.string().max(1024).optional(),
    ActionsEnabled: z.boolean().optional(),
    OKActions: z.array(z.string().min(1)).max(5).optional(),
    AlarmActions: z.array(z.string().min(1)).max(5).optional(),
    InsufficientDataActions: z.array(z.string().min(1)).max(5).optional(),
    MetricName: z.string().min(1).max(255).optional(),
    Namespace: z.string().min(1).max(255).optional(),
    Statistic: z.enum(['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']).optional(),
    ExtendedStatistic: z.string().optional(),
    Dimensions: dimensions,
    Period: z.number().int().min(1).optional(),
    Unit: z.string().optional(),
    EvaluationPeriods: z.number().int().min(1),
    DatapointsToAlarm: z.number().int().min(1).optional(),
    Threshold: z.number().optional(),
    ComparisonOperator: comparison,
    TreatMissingData: z.enum(['breaching', 'notBreaching', 'ignore', 'missing']).optional(),
    EvaluateLowSampleCountPercentile: z.string().optional(),
    Metrics: z.array(z.unknown()).optional(),
    ThresholdMetricId: z.string().optional(),
  }),
  async (context, request) => {
    if (request.Metrics !== undefined) {
      throw invalid(
        'Alarms on metric math are not supported by this emulator: give MetricName and Namespace.',
      );
    }
    if (!request.MetricName || !request.Namespace || request.Period === undefined) {
      throw missing('MetricName, Namespace and Period are required for an alarm on a metric.');
    }
    if ((request.Statistic === undefined) === (request.ExtendedStatistic === undefined)) {
      throw invalid('Exactly one of the parameters Statistic and ExtendedStatistic must be specified.');
    }
    if (request.ExtendedStatistic !== undefined && !isStatistic(request.ExtendedStatistic)) {
      throw invalid(`The value ${request.ExtendedStatistic} for parameter ExtendedStatistic is invalid.`);
    }
    if (request.Threshold === undefined) throw missing('The parameter Threshold is required.');
    if (request.DatapointsToAlarm !== undefined && request.DatapointsToAlarm > request.EvaluationPeriods) {
      throw invalid('DatapointsToAlarm must be less than or equal to EvaluationPeriods.');
    }
    const config: AlarmConfig = {
      AlarmName: request.AlarmName,
      ...(request.AlarmDescription !== undefined ? { AlarmDescription: request.AlarmDescription } : {}),
      ActionsEnabled: request.ActionsEnabled ?? true,
      OKActions: request.OKActions ?? [],
      AlarmActions: request.AlarmActions ?? [],
      InsufficientDataActions: request.InsufficientDataActions ?? [],
      Namespace: request.Namespace,
      MetricName: request.MetricName,
      Dimensions: sortedDimensions(request.Dimensions ?? []),
      ...(request.Statistic
        ? { Statistic: request.Statistic }
        : { ExtendedStatistic: request.ExtendedStatistic }),
      Period: request.Period,
      ...(request.Unit ? { Unit: request.Unit } : {}),
      EvaluationPeriods: request.EvaluationPeriods,
      ...(request.DatapointsToAlarm !== undefined ? { DatapointsToAlarm: request.DatapointsToAlarm } : {}),
      Threshold: request.Threshold,
      ComparisonOperator: request.ComparisonOperator,
      ...(request.TreatMissingData ? { TreatMissingData: request.TreatMissingData } : {}),
    };
    const now = context.now();
    const existing = context.store.alarms.get(config.AlarmName);
    // An update keeps the alarm's state (CloudWatch: "its state is left unchanged"); the same configuration
    // again changes nothing.
    if (existing && JSON.stringify(existing.config) === JSON.stringify(config)) return {};
    const alarm: StoredAlarm = existing
      ? { ...existing, config, configUpdated: now }
      : {
          config,
          arn: `arn:aws:cloudwatch:${context.region}:${context.accountId}:alarm:${config.AlarmName}`,
          configUpdated: now,
          state: 'INSUFFICIENT_DATA',
          stateReason: 'Unchecked: Initial alarm creation',
          stateUpdated: now,
          stateTransitioned: now,
        };
    context.store.alarms.set(config.AlarmName, alarm);
    context.store.addHistory({
      AlarmName: config.AlarmName,
      AlarmType: 'MetricAlarm',
      Timestamp: now,
      HistoryItemType: 'ConfigurationUpdate',
      HistorySummary: `Alarm "${config.AlarmName}" ${existing ? 'updated' : 'created'}`,
      HistoryData: JSON.stringify({
        type: existing ? 'Update' : 'Create',
        version: '1.0',
        updatedAlarm: config,
      }),
    });
    await context.store.saveAlarms();
    context.alarmChanged(config.AlarmName);
    return {};
  },
);

/** An alarm as DescribeAlarms returns it. */
export function wireAlarm(alarm: StoredAlarm): Record<string, unknown> {
  return {
    ...alarm.config,
    AlarmArn: alarm.arn,
    AlarmConfigurationUpdatedTimestamp: toEpochSeconds(alarm.configUpdated),
    StateValue: alarm.state,
    StateReason: alarm.stateReason,
    ...(alarm.stateReasonData ? { StateReasonData: alarm.stateReasonData } : {}),
    StateUpdatedTimestamp: toEpochSeconds(alarm.stateUpdated),
    StateTransitionedTimestamp: toEpochSeconds(alarm.stateTransitioned),
    DatapointsToAlarm: alarm.config.DatapointsToAlarm ?? alarm.config.EvaluationPeriods,
    TreatMissingData: alarm.config.TreatMissingData ?? 'missing',
  };
}

const stateValue = z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

const describeAlarms = action(
  z.looseObject({
    AlarmNames: z.array(z.string().min(1)).max(100).optional(),
    AlarmNamePrefix: z.string().min(1).optional(),
    AlarmTypes: z.array(z.enum(['CompositeAlarm', 'MetricAlarm'])).optional(),
    StateValue: stateValue.optional(),
    ActionPrefix: z.string().min(1).optional(),
    MaxRecords: z.number().int().min(1).max(100).optional(),
    NextToken: z.string().optional(),
  }),
  async (context, request) => {
    if (request.AlarmNames && request.AlarmNamePrefix) {
      throw invalid('AlarmNames and AlarmNamePrefix cannot be specified together.');
    }
    const offset = request.NextToken ? Number(decodePageToken(request.NextToken)?.offset) : 0;
    if (!Number.isInteger(offset))
      throw invalid(`The value ${request.NextToken} for parameter NextToken is invalid.`);
    const size = request.MaxRecords ?? 50;
    const wantsMetricAlarms = !request.AlarmTypes || request.AlarmTypes.includes('MetricAlarm');
    const matching = [...context.store.alarms.values()]
      .filter(({ config, state }) => {
        if (request.AlarmNames && !request.AlarmNames.includes(config.AlarmName)) return false;
        if (request.AlarmNamePrefix && !config.AlarmName.startsWith(request.AlarmNamePrefix)) return false;
        if (request.StateValue && state !== request.StateValue) return false;
        const actions = [...config.OKActions, ...config.AlarmActions, ...config.InsufficientDataActions];
        return !request.ActionPrefix || actions.some((arn) => arn.startsWith(request.ActionPrefix!));
      })
      .sort((a, b) => a.config.AlarmName.localeCompare(b.config.AlarmName));
    const page = wantsMetricAlarms ? matching.slice(offset, offset + size) : [];
    return {
      MetricAlarms: page.map(wireAlarm),
      CompositeAlarms: [],
      ...(wantsMetricAlarms && offset + size < matching.length
        ? { NextToken: encodePageToken({ offset: offset + size }) }
        : {}),
    };
  },
);

const describeAlarmHistory = action(
  z.looseObject({
    AlarmName: z.string().min(1).optional(),
    AlarmTypes: z.array(z.enum(['CompositeAlarm', 'MetricAlarm'])).optional(),
    HistoryItemType: z
      .enum([
        'ConfigurationUpdate',
        'StateUpdate',
        'Action',
        'AlarmContributorStateUpdate',
        'AlarmContributorAction',
      ])
      .optional(),
    StartDate: epochSeconds.optional(),
    EndDate: epochSeconds.optional(),
    MaxRecords: z.number().int().min(1).max(100).optional(),
    NextToken: z.string().optional(),
    ScanBy: z.enum(['TimestampDescending', 'TimestampAscending']).optional(),
  }),
  async (context, request) => {
    const offset = request.NextToken ? Number(decodePageToken(request.NextToken)?.offset) : 0;
    if (!Number.isInteger(offset))
      throw invalid(`The value ${request.NextToken} for parameter NextToken is invalid.`);
    const size = request.MaxRecords ?? 100;
    const ascending = request.ScanBy === 'TimestampAscending';
    // Newest first (or oldest first); items of the same instant in the order they happened.
    const items = context.store
      .historyItems()
      .map((item, index) => ({ item, index }))
      .filter(({ item }: { item: HistoryItem }) => {
        if (request.AlarmName && item.AlarmName !== request.AlarmName) return false;
        if (request.HistoryItemType && item.HistoryItemType !== request.HistoryItemType) return false;
        if (request.StartDate !== undefined && item.Timestamp < request.StartDate * 1000) return false;
        return request.EndDate === undefined || item.Timestamp <= request.EndDate * 1000;
      })
      .sort((a, b) => (a.item.Timestamp - b.item.Timestamp || a.index - b.index) * (ascending ? 1 : -1))
      .map(({ item }) => item);
    return {
      AlarmHistoryItems: items
        .slice(offset, offset + size)
        .map((item) => ({ ...item, Timestamp: toEpochSeconds(item.Timestamp) })),
      ...(offset + size < items.length ? { NextToken: encodePageToken({ offset: offset + size }) } : {}),
    };
  },
);

const deleteAlarms = action(
  z.looseObject({ AlarmNames: z.array(z.string().min(1)).min(1).max(100) }),
  async (context, request) => {
    const unknown = request.AlarmNames.filter((name) => !context.store.alarms.has(name));
    if (unknown.length > 0) {
      throw cloudWatchProtocol.error('ResourceNotFound', `The alarm ${unknown[0]} does not exist.`, 404);
    }
    for (const name of request.AlarmNames) context.store.removeAlarm(name);
    await context.store.saveAlarms();
    return {};
  },
);

export const cloudWatchActions = {
  PutMetricData: putMetricData,
  GetMetricData: getMetricData,
  ListMetrics: listMetrics,
  PutMetricAlarm: putMetricAlarm,
  DescribeAlarms: describeAlarms,
  DescribeAlarmHistory: describeAlarmHistory,
  DeleteAlarms: deleteAlarms,
};

export type { AlarmState, Dimension, MetricIdentity };
