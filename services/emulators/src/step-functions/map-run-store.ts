import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../aws-json/index.ts';

// Durable map runs: one JSON file per map run under `<dataDir>/map-runs/<id>.json`, and its items, read once by
// the ItemReader, in `<id>.items.json` (so a resumed or redriven run works on exactly the items it read). What
// each item did is its child execution's record in the execution store; the map run keeps only its own facts.

export const mapRunStatuses = ['RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED'] as const;
export type MapRunStatus = (typeof mapRunStatuses)[number];

const mapRunRecordSchema = z.object({
  mapRunArn: z.string(),
  /** The map run's id: the last part of its ARN, the ResultWriter's folder. */
  id: z.string(),
  executionArn: z.string(),
  stateName: z.string(),
  childMachineArn: z.string(),
  status: z.enum(mapRunStatuses),
  startDate: z.number(),
  stopDate: z.number().optional(),
  maxConcurrency: z.number().int().nonnegative(),
  toleratedFailurePercentage: z.number().min(0).max(100),
  toleratedFailureCount: z.number().int().nonnegative(),
  /** The Map state's effective input: what ItemSelector reads as `$`. */
  input: z.string(),
  /** Set once the items have been read. */
  itemCount: z.number().int().nonnegative().optional(),
  /** Items whose results the ResultWriter has written. */
  resultsWritten: z.number().int().nonnegative().default(0),
  redriveCount: z.number().int().nonnegative().default(0),
  redriveDate: z.number().optional(),
  /** The Map state's result (SUCCEEDED), or its error (FAILED/ABORTED). */
  output: z.string().optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
});
export type MapRunRecord = z.infer<typeof mapRunRecordSchema>;

export class MapRunStore {
  private readonly records = new Map<string, MapRunRecord>();
  private readonly items = new Map<string, unknown[]>();
  private readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async open(dataDir: string): Promise<MapRunStore> {
    const store = new MapRunStore(join(dataDir, 'map-runs'));
    await mkdir(store.dir, { recursive: true });
    for (const file of await readdir(store.dir)) {
      if (!file.endsWith('.json') || file.endsWith('.items.json')) continue;
      try {
        const record = mapRunRecordSchema.parse(JSON.parse(await readFile(join(store.dir, file), 'utf8')));
        store.records.set(record.mapRunArn, record);
      } catch (error) {
        console.warn(`step-functions emulator: skipping unreadable map run file ${file}: ${String(error)}`);
      }
    }
    return store;
  }

  get(mapRunArn: string): MapRunRecord | undefined {
    return this.records.get(mapRunArn);
  }

  /** The execution's map runs, newest first. */
  ofExecution(executionArn: string): MapRunRecord[] {
    return [...this.records.values()]
      .filter((record) => record.executionArn === executionArn)
      .sort((a, b) => b.startDate - a.startDate);
  }

  /** Writes the record (a new one, or its new state). Writes are small and rare: one per status change. */
  async save(record: MapRunRecord): Promise<void> {
    this.records.set(record.mapRunArn, record);
    await writeFileAtomic(join(this.dir, `${record.id}.json`), JSON.stringify(record));
  }

  async saveItems(record: MapRunRecord, items: unknown[]): Promise<void> {
    await writeFileAtomic(join(this.dir, `${record.id}.items.json`), JSON.stringify(items));
    this.items.set(record.mapRunArn, items);
  }

  async loadItems(record: MapRunRecord): Promise<unknown[]> {
    const cached = this.items.get(record.mapRunArn);
    if (cached) return cached;
    const items = z
      .array(z.unknown())
      .parse(JSON.parse(await readFile(join(this.dir, `${record.id}.items.json`), 'utf8')));
    this.items.set(record.mapRunArn, items);
    return items;
  }
}
