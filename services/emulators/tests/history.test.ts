import { describe, expect, it } from '@jest/globals';
import { eventData, History } from '../src/step-functions/history.ts';
import type { StoredEvent } from '../src/step-functions/store.ts';

// The history's links without a run: each event follows the last one of its lane, branches start from the
// event that opened them, joining events and Execution* events follow what the caller (or the whole history) says.

const started: StoredEvent = { id: 1, previousEventId: 0, timestamp: 0, type: 'ExecutionStarted' };

function history() {
  const events: StoredEvent[] = [{ ...started }];
  let saves = 0;
  let clock = 100;
  const log = new History(
    events,
    () => (saves += 1),
    () => (clock += 1),
  );
  return { events, log, saves: () => saves };
}

const links = (events: StoredEvent[]) =>
  events.map(({ id, previousEventId, type }) => [id, previousEventId, type]);

describe('History', () => {
  it('links root events one after the other, after the events it was given, with the clock it was given', () => {
    const { events, log, saves } = history();
    expect(log.append('TaskStateEntered', { stateEnteredEventDetails: { name: 'A' } })).toBe(2);
    expect(log.append('TaskStateExited')).toBe(3);
    expect(links(events)).toEqual([
      [1, 0, 'ExecutionStarted'],
      [2, 1, 'TaskStateEntered'],
      [3, 2, 'TaskStateExited'],
    ]);
    expect(events[1]).toEqual({
      id: 2,
      previousEventId: 1,
      timestamp: 101,
      type: 'TaskStateEntered',
      stateEnteredEventDetails: { name: 'A' },
    });
    expect(saves()).toBe(2);
  });

  it('starts each branch lane from the event that opened it and keeps the lanes apart', () => {
    const { events, log } = history();
    log.append('ParallelStateEntered');
    const opened = log.append('ParallelStateStarted');
    log.branchFrom(['P[0]', 'P[1]'], opened);
    log.append('TaskStateEntered', {}, 'P[0]'); // 4 → 3
    log.append('TaskStateEntered', {}, 'P[1]'); // 5 → 3
    log.append('TaskStateExited', {}, 'P[0]'); // 6 → 4
    log.append('TaskStateExited', {}, 'P[1]'); // 7 → 5
    expect(log.lastOfLanes(['P[0]', 'P[1]'])).toBe(7);
    log.append('ParallelStateSucceeded', {}, '', log.lastOfLanes(['P[0]', 'P[1]'])); // 8 → 7
    log.append('ParallelStateExited'); // 9 → 8
    expect(links(events).slice(3)).toEqual([
      [4, 3, 'TaskStateEntered'],
      [5, 3, 'TaskStateEntered'],
      [6, 4, 'TaskStateExited'],
      [7, 5, 'TaskStateExited'],
      [8, 7, 'ParallelStateSucceeded'],
      [9, 8, 'ParallelStateExited'],
    ]);
  });

  it('closes the execution after the last event of any lane', () => {
    const { events, log } = history();
    log.branchFrom(['M'], 1);
    log.append('TaskStateEntered', {}, 'M'); // 2 → 1
    log.append('TaskStateEntered'); // 3 → 1 (root)
    log.append('TaskStateEntered', {}, 'M'); // 4 → 2
    log.append('ExecutionFailed'); // 5 → 4, the last event whatever its lane
    expect(links(events).slice(1)).toEqual([
      [2, 1, 'TaskStateEntered'],
      [3, 1, 'TaskStateEntered'],
      [4, 2, 'TaskStateEntered'],
      [5, 4, 'ExecutionFailed'],
    ]);
    expect(log.lastOf('M')).toBe(4);
    expect(log.lastOf('never-used')).toBeUndefined();
  });

  it('writes data as Step Functions does: JSON text and untruncated details', () => {
    expect(eventData('input', { a: 1 })).toEqual({ input: '{"a":1}', inputDetails: { truncated: false } });
    expect(eventData('output', undefined)).toEqual({ output: 'null', outputDetails: { truncated: false } });
  });
});
