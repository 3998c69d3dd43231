import type { StoredEvent } from './store.ts';

// An execution's event history as Step Functions writes it: ids from 1, and each event's `previousEventId`
// pointing at the last event of its own lane (the root, a Parallel branch, a Map iteration), so branches
// running side by side form separate chains. Execution* events close the whole history and follow the last
// event of any lane.

/** `{input: "<json>", inputDetails: {truncated: false}}` (or output), as history events carry data. */
export function eventData(key: 'input' | 'output', value: unknown): Record<string, unknown> {
  return { [key]: JSON.stringify(value ?? null), [`${key}Details`]: { truncated: false } };
}

export class History {
  private readonly events: StoredEvent[];
  private readonly lastIdByLane = new Map<string, number>();
  private readonly changed: () => void;
  private readonly now: () => number;

  /**
   * `events` is appended to in place (it is the record's); the events already there (ExecutionStarted) seed the
   * root lane. `changed` runs after every append (the store persists the record).
   */
  constructor(events: StoredEvent[], changed: () => void, now: () => number = Date.now) {
    this.events = events;
    this.changed = changed;
    this.now = now;
    const last = events.at(-1);
    if (last) this.lastIdByLane.set('', last.id);
  }

  /** Appends an event to `lane`; `previous` overrides the link (an event that joins several lanes). */
  append(type: string, details: Record<string, unknown> = {}, lane = '', previous?: number): number {
    const id = this.events.length + 1;
    const closesExecution = type.startsWith('Execution');
    const previousEventId =
      previous ??
      (closesExecution ? this.events.length : (this.lastIdByLane.get(lane) ?? this.events.length));
    this.events.push({ id, previousEventId, timestamp: this.now(), type, ...details });
    this.lastIdByLane.set(lane, id);
    this.changed();
    return id;
  }

  /** Starts (or restarts, on a retry) `lanes` after the event `from`: their first events link to it. */
  branchFrom(lanes: readonly string[], from: number): void {
    for (const lane of lanes) this.lastIdByLane.set(lane, from);
  }

  /** The last event of `lane`. */
  lastOf(lane: string): number | undefined {
    return this.lastIdByLane.get(lane);
  }

  /** The latest last event among `lanes`: what an event joining them (ParallelStateSucceeded) follows. */
  lastOfLanes(lanes: readonly string[]): number | undefined {
    const ids = lanes.map((lane) => this.lastIdByLane.get(lane) ?? 0);
    return ids.length > 0 ? Math.max(...ids) : undefined;
  }
}
