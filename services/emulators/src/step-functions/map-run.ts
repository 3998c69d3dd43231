import type { S3Client } from '@aws-sdk/client-s3';
import { createHash, randomUUID } from 'node:crypto';
import type { DistributedMapState } from './definition.ts';
import type { ExecutionRun, RunMode } from './execution-run.ts';
import { readItems } from './item-reader.ts';
import { mapLabel, type MachineEntry, type MachineRuntime } from './machines.ts';
import type { MapRunRecord, MapRunStore } from './map-run-store.ts';
import { evaluatePayload } from './payload.ts';
import { writeMapRunResults, type ItemOutcome } from './result-writer.ts';
import {
  startedExecution,
  type ExecutionRecord,
  type ExecutionStatus,
  type ExecutionStore,
} from './store.ts';

// A Distributed Map state, run the way Step Functions runs one: a map run (its own ARN, record and counts) reads
// the items through the ItemReader (S3 ListObjectsV2, or GetObject of a JSON array, through the SDK), starts one
// child execution of `<machine>/<label>` per item with ItemSelector's input, at most MaxConcurrency at once,
// fails with States.ExceedToleratedFailureThreshold once more items failed than ToleratedFailurePercentage /
// ToleratedFailureCount allow, and writes manifest.json and SUCCEEDED_0 / FAILED_0 / PENDING_0.json through the
// ResultWriter. The Map state's result is `{MapRunArn, ResultWriterDetails: {Bucket, Key}}`.
//
// Durable: the map run and its items are kept on disk (map-run-store.ts) and each child is an ordinary
// execution in the store. When the parent runs again after a restart, its map run carries on: children that
// finished are counted, not run again; those that were running run again (reusing their tasks' results); the
// rest start. A redrive of the parent redrives the map run: its failed, timed-out and aborted children are
// redriven, and those never started start.

export interface MapRunHost {
  region: string;
  accountId: string;
  machines: Map<string, MachineEntry>;
  store: ExecutionStore;
  mapRuns: MapRunStore;
  runs: Map<string, ExecutionRun>;
  /** Runs a RUNNING execution (a new child, one left running by a restart, or a redriven one). */
  launch(machine: MachineEntry, record: ExecutionRecord, mode: RunMode): void;
  nextStartDate(): number;
  /** What ItemReader and ResultWriter read and write through. */
  s3?: S3Client;
}

export interface MapStateCall {
  parent: ExecutionRecord;
  machine: MachineRuntime;
  stateName: string;
  /** The Map state's effective input (after InputPath). */
  input: unknown;
  mode: RunMode;
  /** Appends a history event to the parent, in the Map state's lane. */
  record(type: string, details: Record<string, unknown>): void;
  /** Resolves when the parent's run has ended (stopped, failed elsewhere, or detached by a shutdown). */
  ended: Promise<unknown>;
  detached(): boolean;
}

const failedStatuses: readonly ExecutionStatus[] = ['FAILED', 'TIMED_OUT', 'ABORTED'];

function named(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/** A child's name: a UUID made from the map run's id and the item's index, so a re-run names it the same. */
export function childName(mapRunId: string, index: number): string {
  const hex = createHash('sha256').update(`${mapRunId}:${index}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export async function runDistributedMap(host: MapRunHost, call: MapStateCall): Promise<unknown> {
  const map = call.machine.distributedMaps.get(call.stateName)!;
  const label = mapLabel(call.stateName, map);
  const childMachine = host.machines.get(`${call.machine.arn}/${label}`)!;
  const run = await openMapRun(host, call, map, label, childMachine);
  if (run.status === 'SUCCEEDED') return JSON.parse(run.output ?? 'null');
  if (run.status !== 'RUNNING') throw named(run.error ?? 'States.Runtime', run.cause ?? '');

  const context = {
    Execution: { Id: call.parent.executionArn, Name: call.parent.name, Input: JSON.parse(call.parent.input) },
  };
  let items: unknown[];
  if (run.itemCount === undefined) {
    try {
      items = await readItems(host.s3, map, call.input, context);
    } catch (error) {
      return finish(host, call, run, {
        status: 'FAILED',
        error: 'States.ItemReaderFailed',
        cause: (error as Error).message,
      });
    }
    await host.mapRuns.saveItems(run, items);
    run.itemCount = items.length;
    await host.mapRuns.save(run);
  } else {
    items = await host.mapRuns.loadItems(run);
  }

  const children = new MapChildren(host, call, map, run, childMachine, items, context);
  const outcome = await children.process();
  if (outcome === 'ended') {
    if (!call.detached()) {
      await children.abortRunning();
      await finish(host, call, run, {
        status: 'ABORTED',
        error: 'States.Aborted',
        cause: 'The execution was stopped.',
      });
    }
    return null; // the library has moved on
  }
  let output: unknown;
  try {
    output = map.ResultWriter ? await children.writeResults() : children.outputs();
  } catch (error) {
    return finish(host, call, run, {
      status: 'FAILED',
      error: 'States.ResultWriterFailed',
      cause: (error as Error).message,
    });
  }
  if (outcome === 'failed') {
    return finish(host, call, run, {
      status: 'FAILED',
      error: 'States.ExceedToleratedFailureThreshold',
      cause: 'The specified tolerated failure threshold was exceeded',
    });
  }
  return finish(host, call, run, { status: 'SUCCEEDED', output });
}

/** This parent's map run of the state: a new one, the one left running, or the failed one to redrive. */
async function openMapRun(
  host: MapRunHost,
  call: MapStateCall,
  map: DistributedMapState,
  label: string,
  childMachine: MachineEntry,
): Promise<MapRunRecord> {
  const existing = host.mapRuns
    .ofExecution(call.parent.executionArn)
    .find((run) => run.stateName === call.stateName);
  if (existing?.status === 'RUNNING') {
    call.record('MapRunStarted', { mapRunStartedEventDetails: { mapRunArn: existing.mapRunArn } });
    return existing;
  }
  if (existing && (existing.status === 'SUCCEEDED' || call.mode !== 'redrive')) return existing;
  if (existing) {
    const { stopDate: _stop, error: _error, cause: _cause, output: _output, ...kept } = existing;
    const redriven: MapRunRecord = {
      ...kept,
      status: 'RUNNING',
      redriveCount: existing.redriveCount + 1,
      redriveDate: Date.now(),
    };
    await host.mapRuns.save(redriven);
    call.record('MapRunRedriven', {
      mapRunRedrivenEventDetails: { mapRunArn: redriven.mapRunArn, redriveCount: redriven.redriveCount },
    });
    return redriven;
  }
  const id = randomUUID();
  const run: MapRunRecord = {
    mapRunArn: `arn:aws:states:${host.region}:${host.accountId}:mapRun:${call.machine.name}/${label}:${id}`,
    id,
    executionArn: call.parent.executionArn,
    stateName: call.stateName,
    childMachineArn: childMachine.arn,
    status: 'RUNNING',
    startDate: Date.now(),
    maxConcurrency: map.MaxConcurrency ?? 0,
    toleratedFailurePercentage: map.ToleratedFailurePercentage ?? 0,
    toleratedFailureCount: map.ToleratedFailureCount ?? 0,
    input: JSON.stringify(call.input ?? null),
    resultsWritten: 0,
    redriveCount: 0,
  };
  await host.mapRuns.save(run);
  call.record('MapRunStarted', { mapRunStartedEventDetails: { mapRunArn: run.mapRunArn } });
  return run;
}

type Ending =
  { status: 'SUCCEEDED'; output: unknown } | { status: 'FAILED' | 'ABORTED'; error: string; cause: string };

async function finish(
  host: MapRunHost,
  call: MapStateCall,
  run: MapRunRecord,
  ending: Ending,
): Promise<unknown> {
  run.status = ending.status;
  run.stopDate = Date.now();
  if (ending.status === 'SUCCEEDED') run.output = JSON.stringify(ending.output ?? null);
  else Object.assign(run, { error: ending.error, cause: ending.cause });
  await host.mapRuns.save(run);
  if (ending.status === 'SUCCEEDED') {
    call.record('MapRunSucceeded', {});
    return ending.output;
  }
  if (ending.status === 'ABORTED') {
    call.record('MapRunAborted', {});
    return null;
  }
  call.record('MapRunFailed', { mapRunFailedEventDetails: { error: ending.error, cause: ending.cause } });
  throw named(ending.error, ending.cause);
}

/** The map run's children: started, resumed or redriven at most MaxConcurrency at a time, and their results. */
class MapChildren {
  private readonly active = new Set<ExecutionRun>();
  private readonly redriving: boolean;
  private readonly host: MapRunHost;
  private readonly call: MapStateCall;
  private readonly map: DistributedMapState;
  private readonly run: MapRunRecord;
  private readonly machine: MachineEntry;
  private readonly items: unknown[];
  private readonly context: Record<string, unknown>;

  constructor(
    host: MapRunHost,
    call: MapStateCall,
    map: DistributedMapState,
    run: MapRunRecord,
    machine: MachineEntry,
    items: unknown[],
    context: Record<string, unknown>,
  ) {
    this.host = host;
    this.call = call;
    this.map = map;
    this.run = run;
    this.machine = machine;
    this.items = items;
    this.context = context;
    this.redriving = run.redriveCount > 0 && call.mode === 'redrive';
  }

  arnOf(index: number): string {
    return `arn:aws:states:${this.host.region}:${this.host.accountId}:execution:${this.machine.name}:${childName(this.run.id, index)}`;
  }

  private child(index: number): ExecutionRecord | undefined {
    return this.host.store.get(this.arnOf(index));
  }

  /** More failed items than ToleratedFailurePercentage or ToleratedFailureCount allow (none at all, without either). */
  private exceeded(failed: number): boolean {
    const { ToleratedFailurePercentage: percentage, ToleratedFailureCount: count } = this.map;
    if (percentage === undefined && count === undefined) return failed > 0;
    return (
      (percentage !== undefined && failed * 100 > percentage * this.items.length) ||
      (count !== undefined && failed > count)
    );
  }

  async process(): Promise<'succeeded' | 'failed' | 'ended'> {
    const queue: number[] = [];
    let failed = 0;
    for (let index = 0; index < this.items.length; index += 1) {
      const status = this.child(index)?.status;
      if (status === undefined || status === 'RUNNING') queue.push(index);
      else if (failedStatuses.includes(status)) {
        if (this.redriving) queue.push(index);
        else failed += 1;
      }
    }
    if (this.exceeded(failed)) return 'failed';
    let stop: 'failed' | 'ended' | undefined;
    void this.call.ended.then(() => (stop ??= 'ended'));
    const concurrency = this.run.maxConcurrency === 0 ? 1000 : this.run.maxConcurrency;
    const worker = async () => {
      while (!stop && queue.length > 0) {
        const status = await this.runChild(queue.shift()!);
        if (stop) return;
        if (status === 'RUNNING')
          stop = 'ended'; // could not be run: the server is closing
        else if (failedStatuses.includes(status)) {
          failed += 1;
          if (this.exceeded(failed)) {
            stop = 'failed';
            await this.abortRunning();
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    return stop ?? 'succeeded';
  }

  async abortRunning(): Promise<void> {
    const running = [...this.active];
    for (const run of running) run.stop('States.Aborted', 'The map run stopped.');
    await Promise.all(running.map((run) => run.done));
  }

  /** The child's input: ItemSelector over `$$.Map.Item` (without one, the item itself). */
  private async selected(index: number): Promise<unknown> {
    const item = { Index: index, Value: this.items[index] };
    if (!this.map.ItemSelector) return item.Value;
    return evaluatePayload(this.map.ItemSelector, JSON.parse(this.run.input), {
      ...this.context,
      Map: { Item: item },
    });
  }

  /** Starts, resumes or redrives the item's child, and waits for it; answers its status. */
  private async runChild(index: number): Promise<ExecutionStatus> {
    const arn = this.arnOf(index);
    const existing = this.host.store.get(arn);
    if (!existing) {
      const record = startedExecution(this.machine, {
        executionArn: arn,
        name: childName(this.run.id, index),
        input: JSON.stringify(await this.selected(index)),
        startDate: this.host.nextStartDate(),
        mapRunArn: this.run.mapRunArn,
      });
      await this.host.store.add(record);
      this.host.launch(this.machine, record, 'run');
    } else if (existing.status === 'RUNNING') {
      if (!this.host.runs.has(arn)) this.host.launch(this.machine, existing, 'resume');
    } else if (failedStatuses.includes(existing.status) && this.redriving) {
      redriveRecord(existing);
      await this.host.store.save(existing);
      this.host.launch(this.machine, existing, 'redrive');
    }
    const running = this.host.runs.get(arn);
    if (running) {
      this.active.add(running);
      const finished = await Promise.race([running.done.then(() => true), this.call.ended.then(() => false)]);
      if (finished) this.active.delete(running); // else the parent ended first: abortRunning stops it
    }
    return this.host.store.get(arn)!.status;
  }

  /** Each child's output, in item order (the Map state's result without a ResultWriter). */
  outputs(): unknown[] {
    return this.items.map((_item, index) => JSON.parse(this.child(index)?.output ?? 'null'));
  }

  /** Every item's outcome so far: its finished child, or its input when it has not finished (PENDING). */
  async outcomes(): Promise<ItemOutcome[]> {
    const outcomes: ItemOutcome[] = [];
    for (let index = 0; index < this.items.length; index += 1) {
      const child = this.child(index);
      outcomes.push(
        child && child.status !== 'RUNNING'
          ? { child }
          : { input: JSON.stringify(await this.selected(index)) },
      );
    }
    return outcomes;
  }

  /** The ResultWriter's output for the map run (manifest.json and the result files). */
  async writeResults(): Promise<unknown> {
    if (!this.host.s3) throw new Error('This emulator was started without an S3 client for ResultWriter');
    const parameters = await evaluatePayload(
      this.map.ResultWriter!.Parameters,
      JSON.parse(this.run.input),
      this.context,
    );
    const written = await writeMapRunResults(this.host.s3, parameters, this.run, await this.outcomes());
    this.run.resultsWritten = written.resultsWritten;
    return written.output;
  }
}

/** An execution about to run again (RedriveExecution, or its map run's redrive): RUNNING, one more redrive. */
export function redriveRecord(record: ExecutionRecord): void {
  record.status = 'RUNNING';
  record.redriveCount = (record.redriveCount ?? 0) + 1;
  record.redriveDate = Date.now();
  delete record.stopDate;
  delete record.output;
  delete record.error;
  delete record.cause;
  const last = record.events.at(-1);
  record.events.push({
    id: record.events.length + 1,
    previousEventId: last?.id ?? 0,
    timestamp: record.redriveDate,
    type: 'ExecutionRedriven',
    executionRedrivenEventDetails: { redriveCount: record.redriveCount },
  });
}
