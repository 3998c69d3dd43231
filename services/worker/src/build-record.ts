import {
  buildResultRecord,
  providerNames,
  toResultItem,
  type BuildRecordOutput,
  type BuildRecordTask,
  type CaughtError,
  type ProviderErrorInfo,
  type ProviderName,
  type ResultRecord,
} from '@mc-vision/core';

// The pipeline's BuildRecord step: JSONPath can neither decide complete/partial/failed nor marshal nested maps
// for DynamoDB, and the record must have the shape the synchronous API stores, so the worker builds it.

export interface BuildOptions {
  ttlDays: number;
  now?: Date;
}

export function buildPipelineRecord(task: BuildRecordTask, options: BuildOptions): BuildRecordOutput {
  const { sagemaker, bedrock, azure } = task.outcomes;
  const results: ResultRecord['results'] = {};
  const errors: Partial<Record<ProviderName, ProviderErrorInfo>> = {};
  // A batch may ask for fewer providers: the others were not run, and are not part of the record.
  const asked = new Set<ProviderName>(task.providers ?? providerNames);
  if (asked.has('sagemaker')) {
    if ('result' in sagemaker) results.sagemaker = sagemaker.result;
    else errors.sagemaker = errorInfoFromCaught(sagemaker);
  }
  if (asked.has('bedrock')) {
    if ('result' in bedrock) results.bedrock = bedrock.result;
    else errors.bedrock = errorInfoFromCaught(bedrock);
  }
  if (asked.has('azure')) {
    if ('result' in azure) results.azure = azure.result;
    else errors.azure = errorInfoFromCaught(azure);
  }

  const record = buildResultRecord({
    requestId: task.requestId,
    imageKey: task.imageKey,
    source: 'pipeline',
    results,
    errors,
    ttlDays: options.ttlDays,
    now: options.now,
    ...(task.batchId ? { batchId: task.batchId } : {}),
  });
  return { record, item: toResultItem(record), notification: notificationFor(record) };
}

const maxMessageLength = 1000;

/**
 * `{code, message}` from Step Functions' error output. A Lambda task's `Cause` is the runtime's JSON
 * `{errorType, errorMessage, trace}`: only the message is kept, never the stack trace.
 */
export function errorInfoFromCaught(caught: CaughtError): ProviderErrorInfo {
  return { code: caught.Error, message: causeMessage(caught.Cause) ?? caught.Error };
}

function causeMessage(cause: unknown): string | undefined {
  if (typeof cause !== 'string' || cause.trim() === '') return undefined;
  let message = cause;
  try {
    const parsed: unknown = JSON.parse(cause);
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed) {
      message = String(parsed.errorMessage);
    }
  } catch {
    // Not JSON: the cause is the message itself.
  }
  return message.length > maxMessageLength ? `${message.slice(0, maxMessageLength - 1)}…` : message;
}

/** What the topic's subscribers (an email inbox) read. */
export function notificationFor(record: ResultRecord): BuildRecordOutput['notification'] {
  const answered = Object.values(record.results).filter(Boolean).length;
  const lines = [
    `MC Vision analysed ${record.imageKey} (request ${record.requestId}): ${record.status}, ` +
      `${answered} of ${providerNames.length} providers answered.`,
    '',
  ];
  for (const provider of providerNames) {
    const error = record.errors?.[provider];
    if (error) {
      lines.push(`${provider}: FAILED (${error.code}) ${error.message}`);
      continue;
    }
    if (provider === 'sagemaker') {
      const result = record.results.sagemaker;
      const labels = result?.labels
        .slice(0, 3)
        .map(({ label, score }) => `${label} ${Math.round(score * 100)}%`)
        .join(', ');
      if (result) lines.push(`${provider} (${result.model}): ${labels || 'no labels'}`);
    } else {
      const result = record.results[provider];
      if (result) lines.push(`${provider} (${result.model}): ${result.caption} [${result.tags.join(', ')}]`);
    }
  }
  lines.push(
    '',
    `Stored at ${record.createdAt}; kept until ${new Date(record.expiresAt * 1000).toISOString()}.`,
  );
  // SNS subjects: at most 100 printable ASCII characters (a requestId is at most 64).
  const subject = `MC Vision: ${record.status} result for ${record.requestId}`.slice(0, 100);
  return { subject, message: lines.join('\n') };
}
