import type { ProviderErrorInfo, ProviderName, ResultRecord, ResultStatus } from './schemas.ts';

export interface RecordInput {
  requestId: string;
  imageKey: string;
  source: ResultRecord['source'];
  /** Providers that were asked; each has either a result or an error. */
  results: ResultRecord['results'];
  errors?: Partial<Record<ProviderName, ProviderErrorInfo>>;
  ttlDays: number;
  now?: Date;
  /** The batch the record is an item of. */
  batchId?: string;
}

/** `complete` when every provider asked answered, `failed` when none did, `partial` in between. */
export function resultStatus(succeeded: number, failed: number): ResultStatus {
  if (failed === 0) return 'complete';
  return succeeded === 0 ? 'failed' : 'partial';
}

/** Builds the one record kept per requestId, from both the synchronous API and the pipeline. */
export function buildResultRecord(input: RecordInput): ResultRecord {
  const now = input.now ?? new Date();
  const errors = input.errors ?? {};
  const succeeded = Object.values(input.results).filter(Boolean).length;
  const failed = Object.values(errors).filter(Boolean).length;
  return {
    requestId: input.requestId,
    imageKey: input.imageKey,
    source: input.source,
    status: resultStatus(succeeded, failed),
    createdAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + input.ttlDays * 86_400,
    results: input.results,
    ...(failed > 0 ? { errors } : {}),
    ...(input.batchId ? { batchId: input.batchId } : {}),
  };
}
