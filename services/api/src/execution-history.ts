import { paginateGetExecutionHistory, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionStatus } from '@mc-vision/core';

/** Executions whose history a process keeps (the most recently polled). */
const keptExecutions = 1_000;

/**
 * Events to ask for in a newest-first page: twice what the previous poll found new, at least 8, at most 100.
 * A poll usually finds about as many as the one before; the SDK parses every event it is sent, so a page much
 * larger than what is new is work thrown away, and one too small costs another request.
 */
export function historyPageSize(previousNew: number): number {
  return Math.min(100, Math.max(8, 2 * previousNew));
}

/**
 * An execution's events, oldest first, as `GetExecutionHistory` gives them. A pipeline's status is polled
 * every few hundred milliseconds while it runs and its history only grows, so each process keeps the events
 * it has read: its first read takes the whole history in one page, later ones read it newest first, a small
 * page at a time (`historyPageSize`), and stop at the first event they already have, instead of reading (and
 * the service serializing) every event again.
 */
export function executionHistoryReader(sfn: SFNClient): (executionArn: string) => Promise<HistoryEvent[]> {
  const histories = new Map<string, { events: HistoryEvent[]; lastNew: number }>();
  return async (executionArn) => {
    const kept = histories.get(executionArn);
    const known = kept?.events ?? [];
    const lastKnownId = known.at(-1)?.id ?? 0;
    const newest: HistoryEvent[] = [];
    const reverseOrder = known.length > 0;
    pages: for await (const page of paginateGetExecutionHistory(
      { client: sfn },
      {
        executionArn,
        includeExecutionData: false,
        reverseOrder,
        maxResults: reverseOrder ? historyPageSize(kept?.lastNew ?? 0) : 1000,
      },
    )) {
      for (const event of page.events ?? []) {
        if ((event.id ?? 0) <= lastKnownId) break pages;
        newest.push(event);
      }
    }
    const events = !reverseOrder ? newest : newest.length === 0 ? known : [...known, ...newest.reverse()];
    histories.delete(executionArn); // most recently polled last
    histories.set(executionArn, { events, lastNew: newest.length });
    if (histories.size > keptExecutions) histories.delete(histories.keys().next().value!);
    return events;
  };
}

/** What a poll tells of the execution itself, as DescribeExecution would. */
export interface ExecutionSummary {
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  error?: string;
  cause?: string;
}

/** The event that opens, reopens or closes an execution, and the status it leaves it in. */
const executionEvents: Record<string, ExecutionStatus> = {
  ExecutionStarted: 'RUNNING',
  ExecutionRedriven: 'RUNNING', // a redriven execution runs again
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionTimedOut: 'TIMED_OUT',
  ExecutionAborted: 'ABORTED',
};

/**
 * The execution's status, start and stop read from its history (oldest first, ExecutionStarted included), so a
 * poll needs no DescribeExecution beside GetExecutionHistory: the start is ExecutionStarted's time, and the last
 * Execution* event says whether it is running and, if not, when and how it ended (its error and cause).
 */
export function executionSummary(events: readonly HistoryEvent[]): ExecutionSummary {
  const started = events[0];
  if (started?.type !== 'ExecutionStarted' || !started.timestamp) {
    throw new Error('an execution history starts with ExecutionStarted');
  }
  const last = events.findLast((event) => executionEvents[event.type ?? ''] !== undefined)!;
  const status = executionEvents[last.type!]!;
  if (status === 'RUNNING') return { status, startDate: started.timestamp };
  const details =
    last.executionFailedEventDetails ??
    last.executionTimedOutEventDetails ??
    last.executionAbortedEventDetails;
  return {
    status,
    startDate: started.timestamp,
    ...(last.timestamp ? { stopDate: last.timestamp } : {}),
    ...(details?.error !== undefined ? { error: details.error } : {}),
    ...(details?.cause !== undefined ? { cause: details.cause } : {}),
  };
}
