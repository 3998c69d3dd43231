import * as z from 'zod';

// The S3 ingest handler: one structured log line per uploaded object. A malformed record is logged and
// skipped; it never fails the batch (S3 would retry the whole event, and every good record with it).

/** The parts of an S3 event record we read. */
const s3RecordSchema = z.object({
  eventName: z.string().min(1),
  eventTime: z.string().min(1),
  s3: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      eTag: z.string().optional(),
    }),
  }),
});

const s3EventSchema = z.object({ Records: z.array(z.unknown()) });

export interface IngestedObject {
  bucket: string;
  key: string;
  size: number | undefined;
  etag: string | undefined;
  eventName: string;
  eventTime: string;
}

export interface IngestSummary {
  records: number;
  logged: number;
  skipped: number;
}

/** Structured logging, as Powertools' Logger provides it. */
export interface IngestLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
}

export function createIngestHandler(deps: { logger: IngestLogger }): (event: unknown) => IngestSummary {
  const { logger } = deps;
  return (event) => {
    const parsed = s3EventSchema.safeParse(event);
    if (!parsed.success) {
      logger.warn('skipped an event that is not an S3 notification', { reason: issues(parsed.error) });
      return { records: 0, logged: 0, skipped: 0 };
    }
    const summary: IngestSummary = { records: parsed.data.Records.length, logged: 0, skipped: 0 };
    parsed.data.Records.forEach((raw, index) => {
      const object = toIngestedObject(raw);
      if ('reason' in object) {
        summary.skipped += 1;
        logger.warn('skipped a malformed S3 event record', { index, reason: object.reason });
        return;
      }
      summary.logged += 1;
      logger.info('image uploaded', { ...object });
    });
    return summary;
  };
}

export function toIngestedObject(raw: unknown): IngestedObject | { reason: string } {
  const parsed = s3RecordSchema.safeParse(raw);
  if (!parsed.success) return { reason: issues(parsed.error) };
  const { eventName, eventTime, s3 } = parsed.data;
  const key = decodeKey(s3.object.key);
  if (key === undefined) return { reason: 's3.object.key: not a valid URL-encoded key' };
  return { bucket: s3.bucket.name, key, size: s3.object.size, etag: s3.object.eTag, eventName, eventTime };
}

/** S3 event keys are URL-encoded, with `+` for a space. */
export function decodeKey(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`)
    .join('; ');
}
