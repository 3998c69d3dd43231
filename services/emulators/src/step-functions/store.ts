import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../aws-json/index.ts';

// Durable execution state: one JSON file per execution under `<dataDir>/executions/<machine>/<name>.json`,
// written atomically (`writeFileAtomic`) so a crash leaves either the old or the new version. Writes of one
// execution are coalesced: while one is in flight, further changes mark it dirty and are written once after it.
// Execution names cannot contain `/` or `\` (Step Functions forbids them), so a name is a safe file name.

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
  events: z.array(
    z.looseObject({ id: z.number(), previousEventId: z.number(), timestamp: z.number(), type: z.string() }),
  ),
});
export type ExecutionRecord = Omit<z.infer<typeof executionRecordSchema>, 'events'> & {
  events: StoredEvent[];
};

export class ExecutionStore {
  private readonly records = new Map<string, ExecutionRecord>();
  private readonly writes = new Map<string, { dirty: boolean; done: Promise<void> }>();
  private readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Loads every execution kept under `dataDir`; files that are not execution records are skipped with a warning. */
  static async open(dataDir: string): Promise<ExecutionStore> {
    const store = new ExecutionStore(join(dataDir, 'executions'));
    await mkdir(store.dir, { recursive: true });
    for (const machine of await readdir(store.dir, { withFileTypes: true })) {
      if (!machine.isDirectory()) continue;
      const machineDir = join(store.dir, machine.name);
      for (const file of await readdir(machineDir)) {
        if (!file.endsWith('.json')) continue;
        const path = join(machineDir, file);
        try {
          const record = executionRecordSchema.parse(JSON.parse(await readFile(path, 'utf8')));
          store.records.set(record.executionArn, record as ExecutionRecord);
        } catch (error) {
          console.warn(
            `step-functions emulator: skipping unreadable execution file ${path}: ${String(error)}`,
          );
        }
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
    const pending = this.writes.get(record.executionArn);
    if (pending) {
      pending.dirty = true;
      return pending.done;
    }
    const entry = { dirty: true, done: Promise.resolve() };
    entry.done = (async () => {
      while (entry.dirty) {
        entry.dirty = false;
        try {
          await this.write(record);
        } catch (error) {
          console.error(
            `step-functions emulator: could not persist ${record.executionArn}: ${String(error)}`,
          );
        }
      }
      this.writes.delete(record.executionArn);
    })();
    this.writes.set(record.executionArn, entry);
    return entry.done;
  }

  /** Waits for every write in flight. */
  async flush(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes.values()].map((entry) => entry.done));
  }

  private async write(record: ExecutionRecord): Promise<void> {
    const dir = join(this.dir, record.stateMachineName);
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(join(dir, `${record.name}.json`), JSON.stringify(record));
  }
}
