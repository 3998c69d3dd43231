import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../aws-json/index.ts';

// Durable execution state: one JSON file per execution under `<dataDir>/executions/<machine>/<name>.json`,
// written atomically (`writeFileAtomic`) so a crash leaves either the old or the new version. Writes of one
// execution are coalesced: the changes of one turn of the event loop go out in one write, and while a write is in
// flight further changes wait for one more write after it (at most one in flight, one pending, with the latest
// state). What an answer reports is on disk before it is sent (`durable`), so a crash loses nothing acknowledged.
// Execution names cannot contain `/` or `\` (Step Functions forbids them), so a name is a safe file name; a
// Distributed Map's children belong to the machine `<parent>/<label>`, kept one folder deeper.

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

/** One execution's writes: the one in flight, and whether changes made since it began wait for another. */
interface Writing {
  /** Resolves once the write in flight has finished (failed writes are logged). */
  current: Promise<void>;
  /** `current` has taken its copy of the record: later changes need another write. */
  copied: boolean;
  /** Changes made after `current` took its copy: resolves once the write after it has finished. */
  next?: PromiseWithResolvers<void>;
}

export class ExecutionStore {
  private readonly records = new Map<string, ExecutionRecord>();
  private readonly writes = new Map<string, Writing>();
  /** Machine folders known to exist. */
  private readonly folders = new Set<string>();
  private readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Loads every execution kept under `dataDir`; files that are not execution records are skipped with a warning. */
  static async open(dataDir: string): Promise<ExecutionStore> {
    const store = new ExecutionStore(join(dataDir, 'executions'));
    await mkdir(store.dir, { recursive: true });
    for (const entry of await readdir(store.dir, { withFileTypes: true, recursive: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
      const path = join(entry.parentPath, entry.name);
      try {
        const record = executionRecordSchema.parse(JSON.parse(await readFile(path, 'utf8')));
        store.records.set(record.executionArn, record as ExecutionRecord);
      } catch (error) {
        console.warn(`step-functions emulator: skipping unreadable execution file ${path}: ${String(error)}`);
      }
    }
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
      await this.write(record);
    } catch (error) {
      this.records.delete(record.executionArn);
      throw error;
    }
  }

  /** Persists the record's current state; resolves once a write that includes it has finished. */
  save(record: ExecutionRecord): Promise<void> {
    const writing = this.writes.get(record.executionArn);
    if (writing && !writing.copied) return writing.current;
    if (writing) return (writing.next ??= Promise.withResolvers<void>()).promise;
    // The first write waits for the rest of this turn: the events appended with it go out in the same write.
    const entry: Writing = { current: Promise.resolve(), copied: false };
    entry.current = new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      this.persist(record, entry),
    );
    this.writes.set(record.executionArn, entry);
    void (async () => {
      for (;;) {
        await entry.current;
        const next = entry.next;
        if (!next) break;
        entry.next = undefined;
        entry.current = this.persist(record, entry);
        void entry.current.then(next.resolve);
      }
      this.writes.delete(record.executionArn);
    })();
    return entry.current;
  }

  /**
   * Resolves once the execution's state as it is now is on disk: an answer that reports it (a status, events)
   * waits for this, so what a caller was told survives a crash.
   */
  durable(executionArn: string): Promise<void> {
    const writing = this.writes.get(executionArn);
    // A change made since the write in flight took its copy is waiting for the next one.
    return writing ? (writing.next?.promise ?? writing.current) : Promise.resolve();
  }

  /** Waits for every write in flight. */
  async flush(): Promise<void> {
    while (this.writes.size > 0) {
      await Promise.all([...this.writes.keys()].map((executionArn) => this.durable(executionArn)));
    }
  }

  private async persist(record: ExecutionRecord, entry: Writing): Promise<void> {
    entry.copied = true;
    try {
      await this.write(record); // takes its copy before its first await
    } catch (error) {
      console.error(`step-functions emulator: could not persist ${record.executionArn}: ${String(error)}`);
    }
  }

  private async write(record: ExecutionRecord): Promise<void> {
    const dir = join(this.dir, record.stateMachineName);
    const text = JSON.stringify(record);
    if (!this.folders.has(dir)) {
      // Two first writes to one folder can race, and a recursive mkdir may then still answer EEXIST.
      await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      this.folders.add(dir);
    }
    try {
      await writeFileAtomic(join(dir, `${record.name}.json`), text);
    } catch (error) {
      this.folders.delete(dir); // made again by the next write, should it be gone
      throw error;
    }
  }
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
