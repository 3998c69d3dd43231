import type {
  MonitoringAlarm,
  MonitoringAlarmHistoryResponse,
  MonitoringDashboardResponse,
  MonitoringWidget,
} from '@mc-vision/core/schemas';
import { useEffect, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ApiClient } from '../api.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

// The Monitoring view: the alarms with their state and history, and the same widgets as the CloudWatch dashboard
// drawn as time series, all read from CloudWatch through the API and refreshed every few seconds.

const refreshMs = 10_000;
const ranges = [
  { minutes: 15, label: '15 min' },
  { minutes: 60, label: '1 hour' },
  { minutes: 180, label: '3 hours' },
  { minutes: 1440, label: '1 day' },
];
/** Line colours with at least 3:1 contrast on the panel in light and dark themes. */
const palette = ['#2563eb', '#c2410c', '#15803d', '#7c3aed', '#be123c', '#0e7490'];

const time = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const stateText: Record<MonitoringAlarm['state'], string> = {
  OK: 'OK',
  ALARM: 'In alarm',
  INSUFFICIENT_DATA: 'Insufficient data',
};

function formatValue(value: number, unit: MonitoringWidget['unit']): string {
  if (unit === 'ratio') return `${Math.round(value * 100)}%`;
  const rounded = Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 100) / 100;
  return unit === 'count' ? String(rounded) : `${rounded} ${unit}`;
}

/** Points of every series merged by time, as the chart takes them. */
function chartRows(widget: MonitoringWidget): Record<string, number>[] {
  const rows = new Map<number, Record<string, number>>();
  widget.series.forEach((series, index) => {
    for (const point of series.points) {
      const t = Date.parse(point.timestamp);
      const row = rows.get(t) ?? { t };
      row[`s${index}`] = point.value;
      rows.set(t, row);
    }
  });
  return [...rows.values()].sort((a, b) => a.t! - b.t!);
}

/** What a screen reader hears for a chart: each series' latest value, or that there is no data. */
function summary(widget: MonitoringWidget): string {
  const parts = widget.series.map((series) => {
    const last = series.points.at(-1);
    return last ? `${series.label} ${formatValue(last.value, widget.unit)}` : `${series.label} no data`;
  });
  return `${widget.title}. Latest: ${parts.join('; ')}.`;
}

function WidgetChart({ widget, start, end }: { widget: MonitoringWidget; start: number; end: number }) {
  const rows = chartRows(widget);
  const titleId = `widget-${widget.id}`;
  return (
    <figure className="widget" aria-labelledby={titleId}>
      <figcaption id={titleId}>{widget.title}</figcaption>
      {rows.length === 0 ? (
        <p className="hint no-data">No data in this range.</p>
      ) : (
        <div className="chart" role="img" aria-label={summary(widget)}>
          <ResponsiveContainer width="100%" height={200}>
            <LineChart data={rows} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
              <XAxis
                dataKey="t"
                type="number"
                domain={[start, end]}
                tickFormatter={time}
                stroke="var(--muted)"
                fontSize={12}
              />
              <YAxis
                width={56}
                stroke="var(--muted)"
                fontSize={12}
                tickFormatter={(value: number) => formatValue(value, widget.unit)}
              />
              <Tooltip
                labelFormatter={(label) => time(Number(label))}
                formatter={(value) => formatValue(Number(value), widget.unit)}
              />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              {widget.series.map((series, index) => (
                <Line
                  key={series.label}
                  dataKey={`s${index}`}
                  name={series.label}
                  stroke={palette[index % palette.length]}
                  dot={rows.length < 3}
                  isAnimationActive={false}
                  connectNulls
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
    </figure>
  );
}

/** The alarm's history, read again at every refresh (`version`) without blanking what is shown. */
function AlarmHistory({ client, name, version }: { client: ApiClient; name: string; version: number }) {
  const [history, setHistory] = useState<MonitoringAlarmHistoryResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let current = true;
    client.getAlarmHistory(name).then(
      (answer) => {
        if (!current) return;
        setHistory(answer);
        setError(null);
      },
      (failure: unknown) => current && setError(failure),
    );
    return () => {
      current = false;
    };
  }, [client, name, version]);
  if (error) return <ErrorMessage error={error} action="Reading the alarm's history" />;
  if (!history) return <p className="hint">Loading the history…</p>;
  return (
    <ol className="alarm-history" aria-label={`History of ${name}`}>
      {history.items.map((item) => (
        <li key={`${item.timestamp}-${item.type}-${item.summary}`}>
          <time dateTime={item.timestamp}>{new Date(item.timestamp).toLocaleString()}</time> {item.summary}
        </li>
      ))}
    </ol>
  );
}

function AlarmItem({
  alarm,
  client,
  version,
}: {
  alarm: MonitoringAlarm;
  client: ApiClient;
  version: number;
}) {
  const [open, setOpen] = useState(alarm.state === 'ALARM');
  return (
    <li className={`alarm alarm-${alarm.state.toLowerCase()}`}>
      <p className="alarm-head">
        <strong className={`badge alarm-state-${alarm.state.toLowerCase()}`}>{stateText[alarm.state]}</strong>{' '}
        <code>{alarm.name}</code>
      </p>
      <details open={open} onToggle={(event) => setOpen((event.target as HTMLDetailsElement).open)}>
        <summary>
          Why, and its history{' '}
          <span className="hint">(since {new Date(alarm.since).toLocaleTimeString()})</span>
        </summary>
        {alarm.description && <p className="alarm-description">{alarm.description}</p>}
        <p className="alarm-reason">{alarm.reason}</p>
        {open && <AlarmHistory client={client} name={alarm.name} version={version} />}
      </details>
    </li>
  );
}

export default function MonitoringView({
  client,
  onError,
}: {
  client: ApiClient;
  onError(error: unknown): void;
}) {
  const [minutes, setMinutes] = useState(15);
  const [dashboard, setDashboard] = useState<MonitoringDashboardResponse | null>(null);
  const [alarms, setAlarms] = useState<MonitoringAlarm[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let current = true;
    const load = async () => {
      try {
        const [nextDashboard, nextAlarms] = await Promise.all([
          client.getDashboard(minutes),
          client.getAlarms(),
        ]);
        if (!current) return;
        setDashboard(nextDashboard);
        setAlarms(nextAlarms.alarms);
        setError(null);
        setVersion((value) => value + 1);
      } catch (failure) {
        if (!current) return;
        setError(failure);
        onError(failure);
      }
    };
    void load();
    const timer = setInterval(() => void load(), refreshMs);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [client, minutes, onError]);

  const inAlarm = alarms?.filter((alarm) => alarm.state === 'ALARM') ?? [];
  const undecided = alarms?.filter((alarm) => alarm.state === 'INSUFFICIENT_DATA') ?? [];
  const ok = alarms?.filter((alarm) => alarm.state === 'OK') ?? [];
  const item = (alarm: MonitoringAlarm) => (
    <AlarmItem key={alarm.name} alarm={alarm} client={client} version={version} />
  );
  return (
    <>
      <section aria-labelledby="alarms-heading" className="panel">
        <h2 id="alarms-heading">Alarms</h2>
        <ErrorMessage error={error} action="Reading CloudWatch" />
        {alarms && (
          <>
            <p role="status">
              {inAlarm.length === 0
                ? 'No alarm is in alarm.'
                : `${inAlarm.length} of ${alarms.length} alarms in alarm.`}{' '}
              Refreshed every {refreshMs / 1000} s.
            </p>
            {inAlarm.length + undecided.length > 0 && (
              <ul className="alarms" aria-label="Alarms">
                {[...inAlarm, ...undecided].map(item)}
              </ul>
            )}
            {ok.length > 0 && (
              <details className="ok-alarms">
                <summary>{ok.length} alarms OK</summary>
                <ul className="alarms" aria-label="Alarms OK">
                  {ok.map(item)}
                </ul>
              </details>
            )}
          </>
        )}
      </section>
      <section aria-labelledby="dashboard-heading" className="panel">
        <h2 id="dashboard-heading">Dashboard{dashboard ? `: ${dashboard.name}` : ''}</h2>
        <fieldset className="ranges">
          <legend>Time range</legend>
          {ranges.map((range) => (
            <label key={range.minutes}>
              <input
                type="radio"
                name="range"
                checked={minutes === range.minutes}
                onChange={() => setMinutes(range.minutes)}
              />{' '}
              {range.label}
            </label>
          ))}
        </fieldset>
        {dashboard && (
          <>
            <p className="hint">One point every {dashboard.period} s.</p>
            <div className="widgets">
              {dashboard.widgets.map((widget) => (
                <WidgetChart
                  key={widget.id}
                  widget={widget}
                  start={Date.parse(dashboard.start)}
                  end={Date.parse(dashboard.end)}
                />
              ))}
            </div>
          </>
        )}
      </section>
    </>
  );
}
