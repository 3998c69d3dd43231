import { z } from 'zod';
import type { PublishedMetric } from './server.ts';

// CloudWatch's embedded metric format, read as CloudWatch Logs reads a log event: a JSON object whose `_aws`
// member holds the metric directives (namespace, dimension sets, metric definitions) and whose other members
// hold the values they point at (the specification: CloudWatch_Embedded_Metric_Format_Specification).
// - `_aws.Timestamp` is epoch milliseconds; `CloudWatchMetrics` lists directives.
// - Each dimension set (up to 30 names) publishes every metric of its directive once; an empty set publishes
//   them without dimensions. A dimension whose member is not a string invalidates its set.
// - A metric's member is a number or an array of up to 100 numbers; a metric whose member is missing or not
//   numeric is not published.

const directive = z.object({
  Namespace: z.string().min(1).max(255),
  Dimensions: z.array(z.array(z.string().min(1)).max(30)),
  Metrics: z
    .array(
      z.object({
        Name: z.string().min(1).max(1024),
        Unit: z.string().optional(),
        StorageResolution: z.union([z.literal(1), z.literal(60)]).optional(),
      }),
    )
    .max(100),
});

const envelope = z.looseObject({
  _aws: z.looseObject({ Timestamp: z.number().int().nonnegative(), CloudWatchMetrics: z.array(directive) }),
});

export interface EmbeddedMetrics {
  namespace: string;
  metrics: PublishedMetric[];
}

/** The metrics a log event carries; `undefined` when it is not an embedded-metric-format event. */
export function parseEmbeddedMetrics(line: string): EmbeddedMetrics[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return undefined;
  }
  const parsed = envelope.safeParse(json);
  if (!parsed.success) return undefined;
  const root = parsed.data as Record<string, unknown> & z.infer<typeof envelope>;
  const timestamp = root._aws.Timestamp;
  return root._aws.CloudWatchMetrics.map(({ Namespace, Dimensions, Metrics }) => {
    const sets = Dimensions.filter((names) => names.every((name) => typeof root[name] === 'string')).map(
      (names) => Object.fromEntries(names.map((name) => [name, root[name] as string])),
    );
    const metrics = Metrics.flatMap((definition) => {
      const member = root[definition.Name];
      const values = typeof member === 'number' ? [member] : member;
      if (
        !Array.isArray(values) ||
        values.length === 0 ||
        values.length > 100 ||
        !values.every((value) => typeof value === 'number' && Number.isFinite(value))
      ) {
        return [];
      }
      return sets.map((dimensions) => ({
        name: definition.Name,
        dimensions,
        datum: {
          timestamp,
          values: values as number[],
          counts: values.map(() => 1),
          ...(definition.Unit ? { unit: definition.Unit } : {}),
        },
      }));
    });
    return { namespace: Namespace, metrics };
  });
}
