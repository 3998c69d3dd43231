import type { ExecutionStatus } from '@mc-vision/core/schemas';

// Polling a Step Functions execution through the API (a pipeline's or a batch's status) until it ends.

export const pollIntervalMs = 1000;
const maxBackoffMs = 15_000;
/** After this many failed polls in a row the UI stops and shows the last error. */
export const maxConsecutivePollErrors = 6;

export function isTerminal(status: ExecutionStatus): boolean {
  return status !== 'RUNNING';
}

/** Every second while things go well; doubling (to 15 s) while polls fail, so a struggling API gets room. */
export function nextPollDelay(consecutiveErrors: number): number {
  return Math.min(pollIntervalMs * 2 ** consecutiveErrors, maxBackoffMs);
}

export interface PollOptions<T extends { status: ExecutionStatus }> {
  get: (signal: AbortSignal) => Promise<T>;
  onUpdate: (status: T) => void;
  /** Each failed poll, with how many failed in a row; the loop keeps going until the limit. */
  onError: (error: unknown, consecutiveErrors: number) => void;
  signal: AbortSignal;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * Polls until the execution reaches a terminal status (returned), too many polls fail in a row (the last error
 * is thrown) or the signal aborts (returns undefined).
 */
export async function pollExecution<T extends { status: ExecutionStatus }>({
  get,
  onUpdate,
  onError,
  signal,
  sleep = abortableSleep,
}: PollOptions<T>): Promise<T | undefined> {
  let consecutiveErrors = 0;
  while (!signal.aborted) {
    try {
      const status = await get(signal);
      if (signal.aborted) return undefined;
      consecutiveErrors = 0;
      onUpdate(status);
      if (isTerminal(status.status)) return status;
    } catch (error) {
      if (signal.aborted) return undefined;
      consecutiveErrors += 1;
      onError(error, consecutiveErrors);
      if (consecutiveErrors >= maxConsecutivePollErrors) throw error;
    }
    await sleep(nextPollDelay(consecutiveErrors), signal);
  }
  return undefined;
}
