import {
  buildResultRecord,
  pipelineNotificationSchema,
  providerNames,
  toResultItem,
  type BuildRecordOutput,
  type BuildRecordTask,
  type CaughtError,
  type PipelineNotification,
  type ProviderErrorInfo,
  type ProviderName,
  type ResultRecord,
} from '@mc-vision/core';

// The pipeline's BuildRecord step: JSONPath can neither decide complete/partial/failed nor marshal nested maps
// for DynamoDB, and the record must have the shape the synchronous API stores, so the worker builds it.

export interface BuildOptions {
  ttlDays: number;
  /** Where callers reach the API (`API_BASE_URL`): the notification links to the result there. */
  apiBaseUrl?: string;
  now?: Date;
}

export function buildPipelineRecord(task: BuildRecordTask, options: BuildOptions): BuildRecordOutput {
  const { sagemaker, bedrock, azure } = task.outcomes;
  const results: ResultRecord['results'] = {};
  const errors: Partial<Record<ProviderName, ProviderErrorInfo>> = {};
  if ('result' in sagemaker) results.sagemaker = sagemaker.result;
  else errors.sagemaker = errorInfoFromCaught(sagemaker);
  if ('result' in bedrock) results.bedrock = bedrock.result;
  else errors.bedrock = errorInfoFromCaught(bedrock);
  if ('result' in azure) results.azure = azure.result;
  else errors.azure = errorInfoFromCaught(azure);

  const record = buildResultRecord({
    requestId: task.requestId,
    imageKey: task.imageKey,
    source: 'pipeline',
    results,
    errors,
    ttlDays: options.ttlDays,
    now: options.now,
  });
  return { record, item: toResultItem(record), notification: notificationFor(record, options.apiBaseUrl) };
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

/**
 * What the topic's subscribers (an e-mail inbox) read: only what the platform itself says — the requestId, the
 * status, each provider's outcome (ok, or its error code) and a link to the result. Never model output: a
 * caption or tag is text a picture can put there ("visit …", instructions painted in the photo), and this
 * message reaches people from AWS's own address. Nor error messages, which can quote a provider; nor the image
 * key, which a caller chose.
 */
export function notificationFor(record: ResultRecord, apiBaseUrl?: string): PipelineNotification {
  const answered = Object.values(record.results).filter(Boolean).length;
  const outcomes = providerNames
    .filter((provider) => record.results[provider] || record.errors?.[provider])
    .map((provider) => {
      const error = record.errors?.[provider];
      return `${provider}: ${error ? `error ${errorCodePattern.test(error.code) ? error.code : 'unrecognized'}` : 'ok'}`;
    });
  const message = [
    `MC Vision pipeline result for request ${record.requestId}: ${record.status}, ` +
      `${answered} of ${providerNames.length} providers answered.`,
    '',
    ...outcomes,
    '',
    `The result: ${resultLink(record.requestId, apiBaseUrl)} (send your API key in x-api-key).`,
    `Kept until ${new Date(record.expiresAt * 1000).toISOString()}.`,
  ].join('\n');
  // SNS subjects: at most 100 printable ASCII characters (a requestId is at most 64, of [A-Za-z0-9_-]).
  const subject = `MC Vision: ${record.status} result for ${record.requestId}`.slice(0, 100);
  return pipelineNotificationSchema.parse({ subject, message });
}

/** Error codes are names (`ProviderThrottled`, `States.Timeout`); anything else is not repeated. */
const errorCodePattern = /^[A-Za-z0-9._-]{1,100}$/;

/** `GET /v1/results/<requestId>` at the API's address, or the route alone when the worker is not told it. */
function resultLink(requestId: string, apiBaseUrl: string | undefined): string {
  const path = `/v1/results/${encodeURIComponent(requestId)}`;
  return apiBaseUrl ? `${apiBaseUrl.replace(/\/+$/, '')}${path}` : `GET ${path}`;
}
