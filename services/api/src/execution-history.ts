import { paginateGetExecutionHistory, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';

/** Executions whose history a process keeps (the most recently polled). */
const keptExecutions = 1_000;
/** Events per newest-first page: a poll usually finds fewer new events than this. */
export const historyPageSize = 16;

/**
 * An execution's events, oldest first, as `GetExecutionHistory` gives them. A pipeline's status is polled
 * every few hundred milliseconds while it runs and its history only grows, so each process keeps the events
 * it has read: its first read takes the whole history in one page, later ones read it newest first, a small
 * page at a time, and stop at the first event they already have, instead of reading (and the service
 * serializing) every event again.
 */
export function executionHistoryReader(sfn: SFNClient): (executionArn: string) => Promise<HistoryEvent[]> {
  const histories = new Map<string, HistoryEvent[]>();
  return async (executionArn) => {
    const known = histories.get(executionArn) ?? [];
    const lastKnownId = known.at(-1)?.id ?? 0;
    const newest: HistoryEvent[] = [];
    const reverseOrder = known.length > 0;
    pages: for await (const page of paginateGetExecutionHistory(
      { client: sfn },
      {
        executionArn,
        includeExecutionData: false,
        reverseOrder,
        maxResults: reverseOrder ? historyPageSize : 1000,
      },
    )) {
      for (const event of page.events ?? []) {
        if ((event.id ?? 0) <= lastKnownId) break pages;
        newest.push(event);
      }
    }
    const events = !reverseOrder ? newest : newest.length === 0 ? known : [...known, ...newest.reverse()];
    histories.delete(executionArn); // most recently polled last
    histories.set(executionArn, events);
    if (histories.size > keptExecutions) histories.delete(histories.keys().next().value!);
    return events;
  };
}
