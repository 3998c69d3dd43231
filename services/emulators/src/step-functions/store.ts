import { createReadStream } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { writeFileAtomic } from '../aws-json/index.ts';

// Durable execution state: one journal, `<dataDir>/executions/journal.jsonl`, one JSON line per change of an
// execution: the record without its history and task attempts, the events added since its last line
// (`eventsFrom` the first one's id; 1 rewrites the whole history), and the task attempts from the first that
// changed. The changes of one turn of the event loop, of every execution, go out in one append; while an append
// is in flight further changes wait for the next one (at most one in flight, one pending, each record as it is
// when its append begins). What an answer reports is in the journal before it is sent (`durable`), so a crash
// loses nothing acknowledged; a line a crash cut short is the last one, and was never acknowledged, so replay
// skips it. The journal is rewritten whole (a temporary file renamed over it) when the store opens, when it has
// grown to several times its size at the last rewrite, and after a failed append. Appending, rather than a file
// per execution rewritten at every change, writes each event once and costs one write a turn instead of four
// file operations per changed execution.

export const executionStatuses = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;
export type ExecutionStatus = (typeof executionStatuses)[number];

/** A history event as Step Functions returns it, except `timestamp`, kept in epoch milliseconds. */
export interface StoredEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

const executionRecordSchema = z.object({
  executionArn: z.string(),
  stateMachineArn: z.string(),
  stateMachineName: z.string(),
  name: z.string(),
  status: z.enum(executionStatuses),
  input: z.string(),
  output: z.string().optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
  /** Epoch milliseconds, unique and increasing across executions (list order). */
  startDate: z.number(),
  stopDate: z.number().optional(),
  /** Set on a Distributed Map's child executions: the map run that started it. */
  mapRunArn: z.string().optional(),
  redriveCount: z.number().int().nonnegative().optional(),
  redriveDate: z.number().optional(),
  /**
   * The emulator's own memory of this run's Task attempts (state, effective input, result or error): a re-run
   * after a restart, or a redrive, continues from where it stopped (task-log.ts).
   */
  taskAttempts: z
    .array(
      z.object({
        state: z.string(),
        input: z.string(),
        output: z.string().optional(),
        error: z.string().optional(),
        cause: z.string().optional(),
        /** A Catch handled this failure. */
        caught: z.boolean().optional(),
      }),
    )
    .optional(),
  events: z.array(
    z.looseObject({ id: z.number(), previousEventId: z.number(), timestamp: z.number(), type: z.string() }),
  ),
});
export type ExecutionRecord = Omit<z.infer<typeof executionRecordSchema>, 'events'> & {
  events: StoredEvent[];
};

/** One line of the journal. */
interface JournalEntry {
  record: Omit<ExecutionRecord, 'events' | 'taskAttempts'>;
  /** The id of `events[0]`: the history up to it is kept, the rest replaced by `events`. */
  eventsFrom: number;
  events: StoredEvent[];
  /** The same for the task attempts (1-based); absent when they are as the execution's last line left them. */
  attemptsFrom?: number;
  attempts?: TaskAttempt[];
}

type TaskAttempt = NonNullable<ExecutionRecord['taskAttempts']>[number];

/** The journal, under `<dataDir>/executions`. */
const journalName = 'journal.jsonl';

/** Rewrite the journal once what was appended since its last rewrite exceeds this many times its size then… */
const rewriteGrowthFactor = 4;
/** …and at least this many bytes. */
const rewriteMinBytes = 8 * 1024 * 1024;
/** A rewrite's writes, in characters. */
const rewriteChunkChars = 4 * 1024 * 1024;

/** How much of a record's history its last journal line covered. */
interface Written {
  events: StoredEvent[];
  count: number;
  /** The record's task attempts array, the attempts in it and whether a Catch had taken each, when written. */
  attempts?: { list: TaskAttempt[]; items: TaskAttempt[]; caught: boolean[] };
}

/** An append waiting for its turn, or in flight: the executions it covers, and when it has landed. */
interface Batch {
  arns: Set<string>;
  landed: PromiseWithResolvers<void>;
}

export class ExecutionStore {
  private readonly records: Map<string, ExecutionRecord>;
  private readonly written = new Map<string, Written>();
  private readonly journal: string;
  private pending: Batch | undefined;
  private inFlight: Batch | undefined;
  /** The journal must be rewritten whole before anything more is appended (a failed append). */
  private rewriteNext = false;
  private journalBytes = 0;
  private rewrittenBytes = 0;

  private constructor(dir: string, records: Map<string, ExecutionRecord>) {
    this.journal = join(dir, journalName);
    this.records = records;
  }

  /**
   * Loads every execution kept under `dataDir` and rewrites the journal from them. Execution files of the
   * layout before the journal (`<machine>/<name>.json`) are read too, and removed once the journal holds them.
   */
  static async open(dataDir: string): Promise<ExecutionStore> {
    const dir = join(dataDir, 'executions');
    await mkdir(dir, { recursive: true });
    const { records, legacyFiles } = await readExecutions(dataDir);
    const store = new ExecutionStore(dir, records);
    await store.rewrite();
    for (const file of legacyFiles) await rm(file, { force: true });
    // Their machine folders too (a map run's children are one deeper), deepest first, once empty.
    const folders = new Set<string>();
    for (const file of legacyFiles) {
      for (let folder = dirname(file); folder.length > dir.length; folder = dirname(folder))
        folders.add(folder);
    }
    for (const folder of [...folders].sort((a, b) => b.length - a.length))
      await rmdir(folder).catch(() => {});
    return store;
  }

  get(executionArn: string): ExecutionRecord | undefined {
    return this.records.get(executionArn);
  }

  all(): ExecutionRecord[] {
    return [...this.records.values()];
  }

  /**
   * Adds a new record: in memory at once, so a concurrent start with the same name sees it, then on disk. If it
   * cannot be written it is taken back and the error thrown: a start is acknowledged only once it would survive
   * a restart.
   */
  async add(record: ExecutionRecord): Promise<void> {
    this.records.set(record.executionArn, record);
    try {
      await this.schedule(record.executionArn);
    } catch (error) {
      this.records.delete(record.executionArn);
      this.written.delete(record.executionArn);
      throw error;
    }
  }

  /** Persists the record's current state; resolves once an append that includes it has landed (or failed, logged). */
  save(record: ExecutionRecord): Promise<void> {
    return this.schedule(record.executionArn).catch(() => {});
  }

  /**
   * Resolves once the execution's state as it is now is on disk: an answer that reports it (a status, events)
   * waits for this, so what a caller was told survives a crash.
   */
  durable(executionArn: string): Promise<void> {
    // A change made since the append in flight began is waiting for the next one.
    const batch = this.pending?.arns.has(executionArn)
      ? this.pending
      : this.inFlight?.arns.has(executionArn)
        ? this.inFlight
        : undefined;
    return batch ? batch.landed.promise.catch(() => {}) : Promise.resolve();
  }

  /** Waits for every append in flight or pending. */
  async flush(): Promise<void> {
    while (this.pending || this.inFlight) {
      await (this.pending ?? this.inFlight)!.landed.promise.catch(() => {});
    }
    // The last append failed and nothing has changed since: one more try to leave the journal whole.
    if (this.rewriteNext) {
      await this.rewrite().catch((error: unknown) => {
        console.error(`step-functions emulator: could not persist executions: ${String(error)}`);
      });
    }
  }

  /** Puts the execution in the next append; the first change of a turn schedules it for the turn's end. */
  private schedule(executionArn: string): Promise<void> {
    if (!this.pending) {
      const batch: Batch = { arns: new Set(), landed: Promise.withResolvers<void>() };
      this.pending = batch;
      // Waits for the rest of this turn, and for the append in flight: one append carries all their changes.
      if (!this.inFlight) setImmediate(() => void this.append(batch));
    }
    this.pending.arns.add(executionArn);
    return this.pending.landed.promise;
  }

  private async append(batch: Batch): Promise<void> {
    this.pending = undefined;
    this.inFlight = batch;
    try {
      if (this.rewriteNext || this.journalBytes > this.rewriteThreshold()) {
        await this.rewrite();
      } else {
        const lines: string[] = [];
        const covered: [string, Written][] = [];
        for (const arn of batch.arns) {
          const record = this.records.get(arn);
          if (!record) continue; // an add whose append failed
          const [line, written] = journalLine(record, this.written.get(arn));
          lines.push(line);
          covered.push([arn, written]);
        }
        const text = lines.join('');
        try {
          await appendFile(this.journal, text);
        } catch (error) {
          this.rewriteNext = true; // a part of the text may have landed: start over from what is in memory
          throw error;
        }
        this.journalBytes += Buffer.byteLength(text);
        for (const [arn, written] of covered) this.written.set(arn, written);
      }
      batch.landed.resolve();
    } catch (error) {
      console.error(`step-functions emulator: could not persist executions: ${String(error)}`);
      batch.landed.reject(error);
    } finally {
      this.inFlight = undefined;
      const next = this.pending;
      if (next) setImmediate(() => void this.append(next));
    }
  }

  private rewriteThreshold(): number {
    return Math.max(rewriteMinBytes, this.rewrittenBytes * rewriteGrowthFactor);
  }

  /**
   * Writes the journal afresh, one line per execution with its whole history, a few megabytes at a time: the
   * executions of many batches outgrow what one string can hold.
   */
  private async rewrite(): Promise<void> {
    const covered: [string, Written][] = [];
    let bytes = 0;
    // The executions as they are now: one added while the file is written goes out in the next append.
    const records = [...this.records];
    function* chunks(): Generator<string> {
      let chunk = '';
      for (const [arn, record] of records) {
        const [line, written] = journalLine(record, undefined);
        covered.push([arn, written]);
        bytes += Buffer.byteLength(line);
        chunk += line;
        if (chunk.length >= rewriteChunkChars) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk) yield chunk;
    }
    await writeFileAtomic(this.journal, chunks());
    this.rewriteNext = false;
    this.journalBytes = this.rewrittenBytes = bytes;
    this.written.clear();
    for (const [arn, written] of covered) this.written.set(arn, written);
  }
}

/**
 * The record's journal line: the events after those its last line covered (all of them if it is new or its
 * history was cut), and the task attempts from the first one added, removed or changed since (they are few, but
 * a Catch marks earlier ones and a success drops the failures it retried).
 */
function journalLine(record: ExecutionRecord, written: Written | undefined): [string, Written] {
  const { events, taskAttempts, ...rest } = record;
  const continues = written && written.events === events && written.count <= events.length;
  const from = continues ? written.count : 0;
  const entry: JournalEntry = { record: rest, eventsFrom: from + 1, events: events.slice(from) };
  const now: Written = { events, count: events.length };
  if (taskAttempts) {
    const before = written?.attempts?.list === taskAttempts ? written.attempts : undefined;
    let same = 0;
    while (
      before &&
      same < Math.min(before.items.length, taskAttempts.length) &&
      before.items[same] === taskAttempts[same] &&
      before.caught[same] === (taskAttempts[same]!.caught ?? false)
    ) {
      same += 1;
    }
    if (!before || same < taskAttempts.length || same < before.items.length) {
      entry.attemptsFrom = same + 1;
      entry.attempts = taskAttempts.slice(same);
    }
    now.attempts = {
      list: taskAttempts,
      items: [...taskAttempts],
      caught: taskAttempts.map((attempt) => attempt.caught ?? false),
    };
  }
  return [`${JSON.stringify(entry)}\n`, now];
}

/**
 * The executions kept under `dataDir`, as the store finds them when it opens (and as a process that crashed left
 * them): the journal replayed, over the execution files of the layout before it. Lines and files that are not
 * execution records are skipped with a warning, except a last line a crash cut short.
 */
export async function readExecutions(
  dataDir: string,
): Promise<{ records: Map<string, ExecutionRecord>; legacyFiles: string[] }> {
  const dir = join(dataDir, 'executions');
  const records = new Map<string, ExecutionRecord>();
  const legacyFiles: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    },
  );
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
    const path = join(entry.parentPath, entry.name);
    legacyFiles.push(path);
    try {
      const record = executionRecordSchema.parse(JSON.parse(await readFile(path, 'utf8')));
      records.set(record.executionArn, record as ExecutionRecord);
    } catch (error) {
      console.warn(`step-functions emulator: skipping unreadable execution file ${path}: ${String(error)}`);
    }
  }
  const replayed = new Set<string>();
  // Read line by line: the journal can be larger than one string. A line that does not parse is reported once
  // another follows it; the last one, if a crash cut it short, was never acknowledged and is dropped quietly.
  let unreadable: { line: number; error: unknown } | undefined;
  let lineNumber = 0;
  for await (const line of journalLines(join(dir, journalName))) {
    lineNumber += 1;
    if (unreadable) {
      console.warn(
        `step-functions emulator: skipping line ${unreadable.line} of the execution journal: ${String(unreadable.error)}`,
      );
      unreadable = undefined;
    }
    if (line === '') continue;
    try {
      replayed.add(replay(records, JSON.parse(line) as JournalEntry));
    } catch (error) {
      unreadable = { line: lineNumber, error };
    }
  }
  for (const arn of replayed) {
    const parsed = executionRecordSchema.safeParse(records.get(arn));
    if (parsed.success) continue;
    console.warn(
      `step-functions emulator: skipping execution ${arn} of the journal: ${parsed.error.message}`,
    );
    records.delete(arn);
  }
  return { records, legacyFiles };
}

/** The journal's lines, none if there is no journal yet. */
async function* journalLines(path: string): AsyncGenerator<string> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  try {
    yield* createInterface({ input: stream, crlfDelay: Infinity });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  } finally {
    stream.destroy();
  }
}

/** Applies one journal line to `records`; answers the execution it is about. */
function replay(records: Map<string, ExecutionRecord>, entry: JournalEntry): string {
  const arn = entry.record.executionArn;
  const previous = records.get(arn);
  const events = entry.eventsFrom === 1 ? [] : previous?.events;
  if (!events || events.length < entry.eventsFrom - 1) throw new Error('no history to continue');
  events.length = entry.eventsFrom - 1;
  for (const event of entry.events) events.push(event);
  let taskAttempts = previous?.taskAttempts;
  if (entry.attemptsFrom !== undefined) {
    const kept = entry.attemptsFrom === 1 ? [] : taskAttempts;
    if (!kept || kept.length < entry.attemptsFrom - 1) throw new Error('no task attempts to continue');
    taskAttempts = [...kept.slice(0, entry.attemptsFrom - 1), ...(entry.attempts ?? [])];
  }
  records.set(arn, { ...entry.record, events, ...(taskAttempts ? { taskAttempts } : {}) } as ExecutionRecord);
  return arn;
}

/** A new execution, RUNNING, its history its ExecutionStarted event (StartExecution, and a map run's child). */
export function startedExecution(
  machine: { arn: string; name: string; roleArn: string },
  start: { executionArn: string; name: string; input: string; startDate: number; mapRunArn?: string },
): ExecutionRecord {
  return {
    executionArn: start.executionArn,
    stateMachineArn: machine.arn,
    stateMachineName: machine.name,
    name: start.name,
    status: 'RUNNING',
    input: start.input,
    startDate: start.startDate,
    ...(start.mapRunArn ? { mapRunArn: start.mapRunArn } : {}),
    events: [
      {
        id: 1,
        previousEventId: 0,
        timestamp: start.startDate,
        type: 'ExecutionStarted',
        executionStartedEventDetails: {
          input: start.input,
          inputDetails: { truncated: false },
          roleArn: machine.roleArn,
        },
      },
    ],
  };
}
