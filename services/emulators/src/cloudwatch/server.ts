import { z } from 'zod';
import { accountIdSchema, regionSchema } from '../aws-json/index.ts';
import { stopHttpServer, type EmulatorServer, type ListenOptions } from '../http.ts';
import { cloudWatchActions, cloudWatchProtocol, type CloudWatchContext } from './actions.ts';
import { evaluate, type AlarmState } from './alarm-evaluation.ts';
import { alarmNotification } from './alarm-notification.ts';
import type { MetricDatum } from './statistics.ts';
import { CloudWatchStore, type Dimension, type StoredAlarm } from './store.ts';

// A CloudWatch endpoint for the laptop: the actions in actions.ts on AWS JSON 1.0 in front of a store kept under
// `dataDir`, metric alarms evaluated as CloudWatch evaluates them (alarm-evaluation.ts) every minute, or every
// period when it is shorter, and every state change handed to `alarmAction` once per action of the new state
// with CloudWatch's notification (subject and JSON message), as CloudWatch publishes to an SNS topic.
// AWS services publish their metrics from inside: `publish` is that path (PutMetricData refuses `AWS/`).

export interface AlarmActionCall {
  /** The action's ARN, as the alarm lists it (an SNS topic). */
  arn: string;
  alarmName: string;
  state: AlarmState;
  /** The state it changed from. */
  oldState: AlarmState;
  subject: string;
  /** CloudWatch's alarm notification, as JSON text. */
  message: string;
}

export interface CloudWatchServerOptions extends ListenOptions {
  /** Where metrics, alarms and their history are kept (created if missing). */
  dataDir: string;
  /** Default us-east-1. */
  region?: string;
  /** Default 000000000000. */
  accountId?: string;
  /** Delivers one alarm action; a rejection is recorded in the alarm's history as a failed action. */
  alarmAction?: (call: AlarmActionCall) => Promise<void>;
  /** The clock (epoch ms), for tests. */
  now?: () => number;
  /** How often due alarms are looked at, in ms (default 1000; 0: only when `evaluateAlarms` is called). */
  tickMs?: number;
}

export interface PublishedMetric {
  name: string;
  dimensions: Record<string, string>;
  datum: MetricDatum;
}

export interface CloudWatchServer extends EmulatorServer {
  /** Keeps metrics as an AWS service (or CloudWatch Logs reading embedded metric format) publishes them. */
  publish(namespace: string, metrics: readonly PublishedMetric[]): void;
  /** Evaluates every alarm now, whether due or not; resolves when their actions have been delivered. */
  evaluateAlarms(): Promise<void>;
}

const optionsSchema = z.object({
  dataDir: z.string().min(1),
  region: regionSchema,
  accountId: accountIdSchema,
  tickMs: z.number().int().min(0).default(1000),
});

/** CloudWatch evaluates an alarm every minute, and a high-resolution one every period. */
const evaluationIntervalMs = (alarm: StoredAlarm) => Math.min(alarm.config.Period, 60) * 1000;

export async function startCloudWatchServer(options: CloudWatchServerOptions): Promise<CloudWatchServer> {
  const { dataDir, region, accountId, tickMs } = optionsSchema.parse(options);
  const now = options.now ?? Date.now;
  const store = await CloudWatchStore.open(dataDir, now());
  const due = new Map<string, number>();
  for (const name of store.alarms.keys()) due.set(name, now());

  const context: CloudWatchContext = {
    region,
    accountId,
    store,
    now,
    alarmChanged: (name) => due.set(name, now()),
  };

  async function deliver(alarm: StoredAlarm, oldState: AlarmState): Promise<void> {
    const { config } = alarm;
    if (!config.ActionsEnabled) return;
    const arns =
      alarm.state === 'ALARM'
        ? config.AlarmActions
        : alarm.state === 'OK'
          ? config.OKActions
          : config.InsufficientDataActions;
    for (const arn of arns) {
      const { subject, message } = alarmNotification(alarm, oldState, region, accountId);
      let summary = `Successfully executed action ${arn}`;
      try {
        if (!options.alarmAction) throw new Error('no action handler is configured');
        await options.alarmAction({
          arn,
          alarmName: config.AlarmName,
          state: alarm.state,
          oldState,
          subject,
          message,
        });
      } catch (error) {
        summary = `Failed to execute action ${arn}. Received error: "${error instanceof Error ? error.message : String(error)}"`;
      }
      store.addHistory({
        AlarmName: config.AlarmName,
        AlarmType: 'MetricAlarm',
        Timestamp: now(),
        HistoryItemType: 'Action',
        HistorySummary: summary,
        HistoryData: JSON.stringify({
          actionState: summary.startsWith('Successfully') ? 'Succeeded' : 'Failed',
          notificationResource: arn,
        }),
      });
    }
  }

  async function evaluateOne(alarm: StoredAlarm): Promise<void> {
    const { config } = alarm;
    const at = now();
    const evaluation = evaluate(
      {
        statistic: config.ExtendedStatistic ?? config.Statistic ?? 'Sum',
        period: config.Period,
        evaluationPeriods: config.EvaluationPeriods,
        datapointsToAlarm: config.DatapointsToAlarm ?? config.EvaluationPeriods,
        threshold: config.Threshold,
        comparison: config.ComparisonOperator,
        treatMissingData: config.TreatMissingData ?? 'missing',
        state: alarm.state,
      },
      store.data({ namespace: config.Namespace, name: config.MetricName, dimensions: config.Dimensions }),
      at,
    );
    if (evaluation.state === alarm.state) return;
    const oldState = alarm.state;
    const old = { stateValue: oldState, stateReason: alarm.stateReason };
    Object.assign(alarm, {
      state: evaluation.state,
      stateReason: evaluation.reason,
      stateReasonData: JSON.stringify(evaluation.reasonData),
      stateUpdated: at,
      stateTransitioned: at,
    });
    store.addHistory({
      AlarmName: config.AlarmName,
      AlarmType: 'MetricAlarm',
      Timestamp: at,
      HistoryItemType: 'StateUpdate',
      HistorySummary: `Alarm updated from ${oldState} to ${evaluation.state}`,
      HistoryData: JSON.stringify({
        version: '1.0',
        oldState: old,
        newState: {
          stateValue: evaluation.state,
          stateReason: evaluation.reason,
          stateReasonData: evaluation.reasonData,
        },
      }),
    });
    await deliver(alarm, oldState);
    await store.saveAlarms();
  }

  // One sweep at a time: a slow action delivery never overlaps the next sweep.
  let sweeping: Promise<void> = Promise.resolve();
  const sweep = (all: boolean) => {
    sweeping = sweeping.then(async () => {
      for (const alarm of [...store.alarms.values()]) {
        const name = alarm.config.AlarmName;
        if (!all && (due.get(name) ?? 0) > now()) continue;
        due.set(name, now() + evaluationIntervalMs(alarm));
        try {
          await evaluateOne(alarm);
        } catch (error) {
          console.error(`cloudwatch emulator: evaluating ${name} failed`, error);
        }
      }
    });
    return sweeping;
  };
  const timer = tickMs > 0 ? setInterval(() => void sweep(false), tickMs) : undefined;
  timer?.unref();

  const { server, url } = await cloudWatchProtocol.listen(options, cloudWatchActions, context);
  return {
    url,
    publish(namespace, metrics) {
      for (const metric of metrics) {
        const dimensions: Dimension[] = Object.entries(metric.dimensions).map(([Name, Value]) => ({
          Name,
          Value,
        }));
        store.put({ namespace, name: metric.name, dimensions }, metric.datum);
      }
    },
    evaluateAlarms: () => sweep(true),
    async close() {
      if (timer) clearInterval(timer);
      await stopHttpServer(server);
      await sweeping;
      await store.flush();
    },
  };
}
