import { describe, expect, it, jest } from '@jest/globals';
import { appendFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ExecutionStore,
  readExecutions,
  startedExecution,
  type ExecutionRecord,
} from '../src/step-functions/store.ts';
import { tempDir } from './support.ts';

// The Step Functions emulator's journal, as a crash leaves it: what was acknowledged is read back by the next
// process, a line cut short is not, and the layout before the journal is taken over.

const machine = {
  arn: 'arn:aws:states:us-east-1:123456789012:stateMachine:m',
  name: 'm',
  roleArn: 'arn:role',
};

function execution(name: string): ExecutionRecord {
  return startedExecution(machine, {
    executionArn: `arn:aws:states:us-east-1:123456789012:execution:m:${name}`,
    name,
    input: `{"name":"${name}"}`,
    startDate: Date.now(),
  });
}

function addEvent(record: ExecutionRecord, type: string): void {
  const id = record.events.length + 1;
  record.events.push({ id, previousEventId: id - 1, timestamp: Date.now(), type });
}

const journalOf = (dataDir: string) => join(dataDir, 'executions', 'journal.jsonl');
const linesOf = async (dataDir: string) =>
  (await readFile(journalOf(dataDir), 'utf8')).split('\n').filter(Boolean);

describe('the execution journal', () => {
  it('appends the changes of one turn of every execution together, each event once, and reads them back', async () => {
    const dataDir = await tempDir();
    const store = await ExecutionStore.open(dataDir);
    const [a, b] = [execution('a'), execution('b')];
    await Promise.all([store.add(a), store.add(b)]);
    expect(await linesOf(dataDir)).toHaveLength(2); // a line each

    addEvent(a, 'TaskStateEntered');
    addEvent(b, 'TaskStateEntered');
    void store.save(a);
    void store.save(b);
    addEvent(a, 'TaskStateExited'); // later in the same turn: the same append
    a.status = 'SUCCEEDED';
    await store.durable(a.executionArn);
    const lines = (await linesOf(dataDir)).map((line) => JSON.parse(line));
    expect(lines).toHaveLength(4);
    expect(lines.slice(2).map((line) => [line.record.name, line.eventsFrom, line.events.length])).toEqual([
      ['a', 2, 2],
      ['b', 2, 1],
    ]);

    const { records } = await readExecutions(dataDir);
    expect(records.get(a.executionArn)).toEqual(a);
    expect(records.get(b.executionArn)).toEqual(b);
    await store.flush();
  });

  it('writes the task attempts that changed, and reads back a Catch marking them and a success dropping a retry', async () => {
    const dataDir = await tempDir();
    const store = await ExecutionStore.open(dataDir);
    const a = execution('a');
    a.taskAttempts = [];
    await store.add(a);
    a.taskAttempts.push({ state: 'Classify', input: '{}', error: 'Timeout', cause: 'slow' });
    await store.save(a);
    a.taskAttempts.splice(0, 1, { state: 'Classify', input: '{}', output: '{"labels":[]}' }); // the retry worked
    a.taskAttempts.push({ state: 'Describe', input: '{}', error: 'Throttled', cause: '429' });
    await store.save(a);
    a.taskAttempts[1]!.caught = true; // a Catch took it
    await store.save(a);
    addEvent(a, 'TaskStateEntered'); // the attempts as they were: not written again
    await store.save(a);

    const lines = (await linesOf(dataDir)).map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.attemptsFrom, line.attempts?.length])).toEqual([
      [1, 0],
      [1, 1],
      [1, 2],
      [2, 1],
      [undefined, undefined],
    ]);
    expect((await readExecutions(dataDir)).records.get(a.executionArn)).toEqual(a);
  });

  it('rewrites and reads back a journal written in several chunks (it can outgrow one string)', async () => {
    const dataDir = await tempDir();
    const store = await ExecutionStore.open(dataDir);
    const many = Array.from({ length: 300 }, (_, i) => execution(`e${i}`));
    for (const record of many) {
      record.events.push({
        id: 2,
        previousEventId: 1,
        timestamp: 1,
        type: 'PassStateEntered',
        input: 'x'.repeat(20_000),
      });
    }
    await Promise.all(many.map((record) => store.add(record)));
    await store.flush();

    const reopened = await ExecutionStore.open(dataDir); // rewrites 6 MB, more than one chunk
    expect(reopened.all()).toHaveLength(300);
    const { records } = await readExecutions(dataDir);
    expect(records.get(many[299]!.executionArn)).toEqual(many[299]);
    expect(await linesOf(dataDir)).toHaveLength(300);
  });

  it('skips a last line a crash cut short, keeping what came before it', async () => {
    const dataDir = await tempDir();
    const store = await ExecutionStore.open(dataDir);
    const a = execution('a');
    await store.add(a);
    addEvent(a, 'TaskStateEntered');
    await store.save(a);
    await store.flush();
    const whole = structuredClone(a);
    await appendFile(journalOf(dataDir), '{"record":{"executionArn":"arn:aws:states:us-east-1:1234');

    const reopened = await ExecutionStore.open(dataDir);
    expect(reopened.get(a.executionArn)).toEqual(whole);
    // Opening rewrote the journal: one whole line per execution, the cut line gone.
    expect(await linesOf(dataDir)).toHaveLength(1);
  });

  it('warns of a damaged line within the journal and keeps the other executions', async () => {
    const dataDir = await tempDir();
    const store = await ExecutionStore.open(dataDir);
    const [a, b] = [execution('a'), execution('b')];
    await store.add(a);
    await store.add(b);
    await store.flush();
    const [first, second] = await linesOf(dataDir);
    await writeFile(journalOf(dataDir), `${first}\nnot json\n${second}\n`);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const { records } = await readExecutions(dataDir);
      expect([...records.keys()]).toEqual([a.executionArn, b.executionArn]);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('skipping line 2 of the execution journal'));
    } finally {
      warn.mockRestore();
    }
  });

  it('takes over the execution files of the layout before the journal, then removes them', async () => {
    const dataDir = await tempDir();
    const old = execution('from-before');
    addEvent(old, 'ExecutionSucceeded');
    old.status = 'SUCCEEDED';
    await mkdir(join(dataDir, 'executions', 'm', 'Map'), { recursive: true });
    await writeFile(join(dataDir, 'executions', 'm', 'from-before.json'), JSON.stringify(old));
    const child = execution('child'); // a map run's child, a folder deeper
    await writeFile(join(dataDir, 'executions', 'm', 'Map', 'child.json'), JSON.stringify(child));

    const store = await ExecutionStore.open(dataDir);
    expect(store.get(old.executionArn)).toEqual(old);
    expect(store.get(child.executionArn)).toEqual(child);
    expect(await readdir(join(dataDir, 'executions'))).toEqual(['journal.jsonl']);
    expect((await readExecutions(dataDir)).records.get(old.executionArn)).toEqual(old);
  });

  it('refuses an execution whose append failed, and writes the whole journal again once it can', async () => {
    const dataDir = await tempDir();
    const store = await ExecutionStore.open(dataDir);
    const kept = execution('kept');
    await store.add(kept);
    await store.flush();

    // The journal's place is taken by a folder: every write fails.
    await rm(journalOf(dataDir));
    await mkdir(journalOf(dataDir));
    const error = jest.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const refused = execution('refused');
      await expect(store.add(refused)).rejects.toMatchObject({ code: 'EISDIR' });
      expect(store.get(refused.executionArn)).toBeUndefined();
      addEvent(kept, 'TaskStateEntered');
      await store.save(kept); // logged, kept in memory
      expect(error).toHaveBeenCalledWith(expect.stringContaining('could not persist executions'));
    } finally {
      error.mockRestore();
    }

    await rm(journalOf(dataDir), { recursive: true });
    addEvent(kept, 'TaskStateExited');
    await store.save(kept);
    const { records } = await readExecutions(dataDir);
    expect([...records.values()]).toEqual([kept]);
  });
});
