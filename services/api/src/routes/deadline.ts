import { ProviderUnavailableError, type Config, type ProviderName } from '@mc-vision/core';

// The API must answer before its function times out (API_TIMEOUT_SECONDS, at most 29 s because API Gateway's
// HTTP API gives up after 30 s and then sends its own 503 body). Provider calls retry inside the SDKs, so a
// slow provider could outlast both; a request-level deadline stops waiting for them in time to store the
// record and answer with the contract's JSON error.

/** Kept back from the function's timeout: storing the record, answering, and a cold start (API Gateway counts it). */
export const answerMarginMs = 4_000;

/** How long one request may wait for its providers: the function's timeout less the margin, and at least half of it. */
export function providerDeadlineMs(config: Pick<Config, 'API_TIMEOUT_SECONDS'>): number {
  const timeoutMs = config.API_TIMEOUT_SECONDS * 1000;
  return Math.max(timeoutMs - answerMarginMs, timeoutMs / 2);
}

/** One request's deadline: a signal the provider calls abort on, and the error a provider that missed it gets. */
export interface Deadline {
  signal: AbortSignal;
  ms: number;
}

export function startDeadline(ms: number): Deadline {
  return { signal: AbortSignal.timeout(ms), ms };
}

function missed(provider: ProviderName, deadline: Deadline): ProviderUnavailableError {
  const seconds = Math.round(deadline.ms / 100) / 10;
  return new ProviderUnavailableError(
    provider,
    `${provider}: no answer within ${seconds} s (the API's deadline)`,
  );
}

/**
 * Settles as `call` does, or fails with the deadline's error once the deadline passes, whichever comes
 * first: a call that does not stop at once on the abort (an SDK sleeping before a retry) cannot hold the answer.
 */
export function withinDeadline<T>(provider: ProviderName, deadline: Deadline, call: Promise<T>): Promise<T> {
  const { signal } = deadline;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(missed(provider, deadline));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    call
      .then(resolve, (error: unknown) => reject(signal.aborted ? missed(provider, deadline) : error))
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}
