// Step Functions' payload quota: 256 KiB of UTF-8 for an execution's input and for every state's input (after
// InputPath and Parameters), result and output. Exceeding it is `States.DataLimitExceeded`, a terminal error: no
// Retry or Catch applies (`States.ALL` does not match it), the execution fails.

export const maxPayloadBytes = 256 * 1024;

export const dataLimitError = 'States.DataLimitExceeded';

/** Whether `value`, as the JSON text Step Functions passes on, is over the quota. */
export function exceedsPayloadQuota(value: unknown): boolean {
  return Buffer.byteLength(JSON.stringify(value ?? null)) > maxPayloadBytes;
}

/** The cause Step Functions gives, naming the state or task (a Lambda's ARN, a service integration's service). */
export function dataLimitCause(subject: string, what: 'result' | 'input'): string {
  return what === 'result'
    ? `The state/task '${subject}' returned a result with a size exceeding the maximum number of bytes service limit.`
    : `The state/task '${subject}' has an input with a size exceeding the maximum number of bytes service limit.`;
}
