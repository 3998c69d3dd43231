import { ExecutionError, ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import { Branches } from './branches.ts';
import type { StateInfo } from './definition.ts';
import { Gate } from './gate.ts';
import { eventData, History } from './history.ts';
import type { MachineRuntime } from './machines.ts';
import type { MapStateCall } from './map-run.ts';
import { dataLimitCause, dataLimitError, exceedsPayloadQuota } from './quotas.ts';
import type { ExecutionRecord, ExecutionStore } from './store.ts';
import { TaskLog } from './task-log.ts';
import { scheduledEvent, taskEvent, taskFailureCause, taskKind, type TaskKind } from './task-events.ts';

// One run of an execution on aws-local-stepfunctions, recording Step Functions' own history events: the library's
// event log and the Task overrides drive it; `History` links the events, `task-events` names a Task's events,
// `Branches` orders Parallel and Map events.
//
// Facts about aws-local-stepfunctions 3 this relies on (read from its source, build/main.node.esm.js):
// - A Task override (`taskResourceLocalHandlers[stateName]`) is called with the state's EFFECTIVE input: after
//   InputPath and Parameters (with `$$` context references resolved); ResultSelector, ResultPath and OutputPath
//   are applied to what it returns. Overrides are keyed by state name, Parallel branches and Map iterators
//   included; names are unique across a definition.
// - Retry and Catch match `ErrorEquals` against the thrown error's `name` (`States.ALL` and `States.TaskFailed`
//   match anything but `States.Timeout`); the Catch output is `{Error: error.name, Cause: error.message}`. So a
//   task failure is rethrown here as an Error whose `name` is the handler's error name and whose `message` is the
//   cause Step Functions would report (for Lambda: the runtime's `{errorType, errorMessage, trace}` JSON).
// - Task `TimeoutSeconds` is enforced (a race with `States.Timeout`; the handler itself is not cancelled); a Task
//   without one gets the library's default of 60 s. Machine-level `TimeoutSeconds` ends the run with
//   `ExecutionTimeoutError`; a re-run after a restart gets only the time left since the original start.
// - Its event log is consumed asynchronously, a few microtasks behind the run, so Task events are recorded by the
//   override itself, which first waits until the log consumer has recorded the state's entry (or retry).
// - The context object has `Execution.Id/Name/Input/RoleArn`, `StateMachine.Id/Name`; the library sets
//   `Execution.StartTime` to the (re-)run's start. `$$.State`, `$$.Task` and JSONata are not supported.
// - It has no payload quota. States.DataLimitExceeded (quotas.ts) is enforced here, where a state's effective
//   input, a task's result and a state's output are seen; being terminal, it ends the run (no Catch applies).

export interface TaskCall {
  stateMachineArn: string;
  executionArn: string;
  stateName: string;
  /** The Task's `Resource` as written in the definition. */
  resource: string;
  /** The effective input: the state's input after InputPath and Parameters. */
  input: unknown;
}

/**
 * Runs a Task: resolve with its result (what the Lambda or service integration returns, before ResultSelector),
 * or throw an Error whose `name` is the error Retry/Catch match on (e.g. `ProviderThrottled`,
 * `DynamoDB.ConditionalCheckFailedException`) and whose `message` explains it.
 */
export type TaskHandler = (call: TaskCall) => Promise<unknown>;

/**
 * How an execution runs: `run` from its start; `resume`, again after a restart; `redrive`, again after
 * RedriveExecution. A resumed or redriven run replays its Tasks' earlier outcomes up to the state it stopped in
 * (task-log.ts), so it continues from there.
 */
export type RunMode = 'run' | 'resume' | 'redrive';

interface LibraryEvent {
  type: string;
  state?: { name: string; input: unknown; output?: unknown };
  parentState?: { name: string };
  index?: number;
  Error?: string;
  Cause?: unknown;
}

interface Attempt {
  stateName: string;
  kind: TaskKind;
  closed: boolean;
}

const runEnded = Symbol('run ended');

type Outcome =
  | { status: 'SUCCEEDED'; output: unknown }
  | { status: 'FAILED'; error: string; cause: string }
  | { status: 'TIMED_OUT' }
  | { status: 'ABORTED'; error?: string; cause?: string };

function causeText(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return typeof cause === 'string' ? cause : JSON.stringify(cause ?? '');
}

export class ExecutionRun {
  private readonly machine: MachineRuntime;
  private readonly record: ExecutionRecord;
  private readonly store: ExecutionStore;
  private readonly taskHandler: TaskHandler;
  private readonly retryIntervalOverrides: Record<string, number | number[]> | undefined;
  private readonly onClosed: ((record: ExecutionRecord) => void) | undefined;
  private readonly history: History;
  private readonly branches: Branches<LibraryEvent>;
  private readonly gates = new Map<string, Gate>();
  private readonly attempts = new Map<string, Attempt[]>();
  /** States whose error a Catch just handled: their coming exit is not a success. */
  private readonly caught = new Set<string>();
  private abortLibraryRun: (() => void) | undefined;
  private readonly mode: RunMode;
  private readonly runMap: ((call: MapStateCall) => Promise<unknown>) | undefined;
  /** This run's Task attempts, and the previous run's to replay (resume and redrive). */
  private readonly taskLog: TaskLog;
  /** Shut down by the server: the execution stays RUNNING, to run again. */
  private detachedByShutdown = false;
  /** Terminal status recorded, or detached by a shutdown: nothing more is recorded. */
  private finished = false;
  /** Resolves when the run has ended (terminal status recorded or detached). */
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  /** Resolves when the run ends, so Task overrides still waiting on a handler let the library settle. */
  private readonly ended: Promise<typeof runEnded>;
  private endRun!: () => void;

  constructor(options: {
    machine: MachineRuntime;
    record: ExecutionRecord;
    store: ExecutionStore;
    taskHandler: TaskHandler;
    retryIntervalOverrides?: Record<string, number | number[]>;
    mode?: RunMode;
    /** Runs a Distributed Map state (map-run.ts). */
    runDistributedMap?: (call: MapStateCall) => Promise<unknown>;
    /** Told once the execution has closed (its status and stop date set). */
    onClosed?: (record: ExecutionRecord) => void;
  }) {
    this.machine = options.machine;
    this.record = options.record;
    this.store = options.store;
    this.taskHandler = options.taskHandler;
    this.retryIntervalOverrides = options.retryIntervalOverrides;
    this.mode = options.mode ?? 'run';
    this.runMap = options.runDistributedMap;
    this.taskLog = new TaskLog(this.record, this.mode === 'run' ? [] : (this.record.taskAttempts ?? []));
    this.onClosed = options.onClosed;
    this.history = new History(this.record.events, () => void this.store.save(this.record));
    this.branches = new Branches(this.machine.states);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.ended = new Promise((resolve) => (this.endRun = () => resolve(runEnded)));
  }

  /** Starts (or, after a restart, re-runs from the start) the execution. */
  start(): void {
    const definition = { ...this.machine.definition };
    if (definition.TimeoutSeconds !== undefined) {
      // A redriven execution gets its whole timeout again.
      const since = this.record.redriveDate ?? this.record.startDate;
      const leftMs = definition.TimeoutSeconds * 1000 - (Date.now() - since);
      if (leftMs <= 0) {
        this.finish({ status: 'TIMED_OUT' });
        return;
      }
      definition.TimeoutSeconds = leftMs / 1000;
    }
    const taskResourceLocalHandlers = Object.fromEntries(
      [...this.machine.states.values()]
        .filter((state) => state.type === 'Task' || state.distributed)
        .map((state) => [
          state.name,
          (input: unknown) =>
            state.distributed ? this.runMapState(state, input) : this.runTask(state, input),
        ]),
    );
    // Validated once when the server started; this copy differs only in the time left.
    const stateMachine = new StateMachine(definition as never, { validationOptions: { noValidate: true } });
    const run = stateMachine.run(JSON.parse(this.record.input), {
      overrides: {
        taskResourceLocalHandlers: taskResourceLocalHandlers as never,
        ...(this.retryIntervalOverrides ? { retryIntervalOverrides: this.retryIntervalOverrides } : {}),
      },
      context: {
        Execution: { Id: this.record.executionArn, Name: this.record.name, RoleArn: this.machine.roleArn },
        StateMachine: { Id: this.machine.arn, Name: this.machine.name },
      },
    });
    this.abortLibraryRun = run.abort;
    // The event consumer gets its handler here, not when the run settles: a bookkeeping error while the run
    // is still going (or waiting on a gate only the consumer opens) would otherwise be an unhandled
    // rejection, which ends the process.
    const consumer = (async () => {
      for await (const event of run.eventLogs as AsyncIterable<LibraryEvent>) this.onLibraryEvent(event);
    })().catch((error: unknown) => this.bookkeepingFailed(error));
    void (async () => {
      let outcome: Outcome | undefined;
      try {
        outcome = { status: 'SUCCEEDED', output: await run.result };
      } catch (error) {
        outcome = this.outcomeOf(error);
      }
      await consumer;
      if (outcome) this.finish(outcome);
    })().catch((error: unknown) => this.bookkeepingFailed(error));
  }

  /** A bug in the bookkeeping must not leave the execution RUNNING forever, nor crash the process. */
  private bookkeepingFailed(error: unknown): void {
    if (this.finished) return;
    console.error('step-functions emulator: execution bookkeeping failed', error);
    this.finish({
      status: 'FAILED',
      error: 'States.Runtime',
      cause: 'The emulator failed to record the execution.',
    });
    this.abortLibraryRun?.();
  }

  /** A payload over the quota: the execution fails at once, whatever the definition's Retry and Catch say. */
  private exceedDataLimit(cause: string): void {
    this.finish({ status: 'FAILED', error: dataLimitError, cause });
    this.abortLibraryRun?.();
  }

  /** StopExecution: records ABORTED at once and stops the run from starting anything new. */
  stop(error?: string, cause?: string): void {
    this.finish({ status: 'ABORTED', error, cause });
    this.abortLibraryRun?.();
  }

  /** Server shutdown: stop recording and running, leaving the execution RUNNING on disk to be re-run. */
  detach(): void {
    if (this.finished) return;
    this.finished = true;
    this.detachedByShutdown = true;
    for (const gate of this.gates.values()) gate.openAll();
    this.endRun();
    this.abortLibraryRun?.();
    this.resolveDone();
  }

  private outcomeOf(error: unknown): Outcome | undefined {
    if (this.finished) return undefined; // stopped or detached: already accounted for
    if (error instanceof ExecutionTimeoutError) return { status: 'TIMED_OUT' };
    if (error instanceof ExecutionError && error.cause instanceof Error) {
      return { status: 'FAILED', error: error.cause.name, cause: error.cause.message };
    }
    return { status: 'FAILED', error: 'States.Runtime', cause: causeText(error) };
  }

  private finish(outcome: Outcome): void {
    if (this.finished) return;
    const record = this.record;
    record.status = outcome.status;
    switch (outcome.status) {
      case 'SUCCEEDED':
        record.output = JSON.stringify(outcome.output ?? null);
        this.append('ExecutionSucceeded', {
          executionSucceededEventDetails: eventData('output', outcome.output),
        });
        break;
      case 'FAILED':
        record.error = outcome.error;
        record.cause = outcome.cause;
        this.append('ExecutionFailed', {
          executionFailedEventDetails: { error: outcome.error, cause: outcome.cause },
        });
        break;
      case 'TIMED_OUT':
        record.error = 'States.Timeout';
        this.append('ExecutionTimedOut', { executionTimedOutEventDetails: { error: 'States.Timeout' } });
        break;
      case 'ABORTED': {
        const details = {
          ...(outcome.error === undefined ? {} : { error: outcome.error }),
          ...(outcome.cause === undefined ? {} : { cause: outcome.cause }),
        };
        Object.assign(record, details);
        for (const attempt of [...this.attempts.values()].flat()) this.abortAttempt(attempt);
        this.append('ExecutionAborted', { executionAbortedEventDetails: details });
        break;
      }
    }
    // The stop date is the closing event's time, as in AWS (DescribeExecution and the history agree).
    record.stopDate = record.events.at(-1)!.timestamp;
    this.finished = true;
    for (const gate of this.gates.values()) gate.openAll();
    this.endRun();
    this.onClosed?.(record);
    void this.store.save(record).then(() => this.resolveDone());
  }

  /** Appends a history event, unless the run has finished. */
  private append(type: string, details: Record<string, unknown> = {}, lane = '', previous?: number): number {
    return this.finished ? 0 : this.history.append(type, details, lane, previous);
  }

  private gate(stateName: string): Gate {
    let gate = this.gates.get(stateName);
    if (!gate) {
      gate = new Gate();
      if (this.finished) gate.openAll();
      this.gates.set(stateName, gate);
    }
    return gate;
  }

  private async runTask(state: StateInfo, input: unknown): Promise<unknown> {
    await this.gate(state.name).next();
    if (this.finished) return null; // stopped while waiting: start nothing new (the library discards this)
    if (exceedsPayloadQuota(input)) {
      this.exceedDataLimit(dataLimitCause(state.name, 'input'));
      return null;
    }
    const kind = taskKind(state.resource!);
    const attempt: Attempt = { stateName: state.name, kind, closed: false };
    const open = this.attempts.get(state.name) ?? [];
    open.push(attempt);
    this.attempts.set(state.name, open);
    const record = (event: { type: string; details: Record<string, unknown> }) => {
      if (!attempt.closed) this.append(event.type, event.details, state.lane);
    };
    record(scheduledEvent(kind, input, this.machine.region, state.timeoutSeconds));
    record(taskEvent(kind, 'Started'));

    const inputText = JSON.stringify(input ?? null);
    try {
      const result = await this.callTask(state, input, inputText);
      if (result === runEnded) return null; // the library has moved on; it discards this
      const output: unknown = JSON.parse(JSON.stringify(result ?? null));
      if (exceedsPayloadQuota(output)) {
        const cause = dataLimitCause(kind.kind === 'lambda' ? kind.resource : kind.resourceType, 'result');
        record(taskEvent(kind, 'Failed', { error: dataLimitError, cause }));
        this.exceedDataLimit(cause);
        return null;
      }
      record(taskEvent(kind, 'Succeeded', eventData('output', output)));
      if (!this.finished) this.taskLog.succeeded(state.name, inputText, JSON.stringify(output));
      return output;
    } catch (error) {
      const name = error instanceof Error && error.name ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      if (!this.finished) this.taskLog.failed(state.name, inputText, name, message);
      const cause = taskFailureCause(kind, name, message);
      record(taskEvent(kind, 'Failed', { error: name, cause }));
      const failure = new Error(cause);
      failure.name = name;
      throw failure;
    } finally {
      attempt.closed = true;
      this.attempts.set(
        state.name,
        (this.attempts.get(state.name) ?? []).filter((other) => other !== attempt),
      );
    }
  }

  /** The Task's result: the previous run's at this point (resume, redrive), else the handler's. */
  private async callTask(state: StateInfo, input: unknown, inputText: string): Promise<unknown> {
    const replayed = this.taskLog.take(state.name, inputText);
    if (replayed?.output !== undefined) return JSON.parse(replayed.output);
    if (replayed) throw Object.assign(new Error(replayed.cause ?? ''), { name: replayed.error });
    return Promise.race([
      this.taskHandler({
        stateMachineArn: this.machine.arn,
        executionArn: this.record.executionArn,
        stateName: state.name,
        resource: state.resource!,
        input,
      }),
      this.ended,
    ]);
  }

  /**
   * A Distributed Map state: its map run (map-run.ts), with the Map's own events in its lane. Its outcome is kept
   * like a Task's: a resumed or redriven run that had got past it (it succeeded, or a Catch took its failure)
   * gets that outcome back; one that stopped in it carries on with (or redrives) its map run.
   */
  private async runMapState(state: StateInfo, input: unknown): Promise<unknown> {
    await this.gate(state.name).next();
    if (this.finished) return null;
    if (!this.runMap) {
      throw Object.assign(new Error('Distributed Map is not enabled here'), { name: 'States.Runtime' });
    }
    const inputText = JSON.stringify(input ?? null);
    const replayed = this.taskLog.take(state.name, inputText);
    if (replayed?.output !== undefined) return JSON.parse(replayed.output);
    if (replayed) throw Object.assign(new Error(replayed.cause ?? ''), { name: replayed.error });
    try {
      const result = await this.runMap({
        parent: this.record,
        machine: this.machine,
        stateName: state.name,
        input,
        mode: this.mode,
        record: (type, details) => this.append(type, details, state.lane),
        ended: this.ended,
        detached: () => this.detachedByShutdown,
      });
      if (this.finished) return null;
      const output: unknown = JSON.parse(JSON.stringify(result ?? null));
      this.taskLog.succeeded(state.name, inputText, JSON.stringify(output));
      return output;
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (!this.finished) this.taskLog.failed(state.name, inputText, failure.name, failure.message);
      throw failure;
    }
  }

  /** A task still running when its Parallel/Map or the execution ended: AWS records TaskStateAborted. */
  private abortAttempt(attempt: Attempt): void {
    if (attempt.closed) return;
    attempt.closed = true;
    this.append('TaskStateAborted', {}, this.machine.states.get(attempt.stateName)?.lane ?? '');
  }

  private exitState(info: StateInfo, output: unknown, caught = false): void {
    if (!caught && (info.type === 'Parallel' || info.type === 'Map')) {
      this.append(`${info.type}StateSucceeded`, {}, info.lane, this.history.lastOfLanes(info.childLanes));
    }
    if (info.type === 'Fail') return;
    this.append(
      `${info.type}StateExited`,
      { stateExitedEventDetails: { name: info.name, ...eventData('output', output) } },
      info.lane,
    );
  }

  private onLibraryEvent(event: LibraryEvent): void {
    if (this.finished || this.branches.defer(event)) return;
    this.recordEvent(event);
  }

  private recordEvent(event: LibraryEvent): void {
    const info = event.state ? this.machine.states.get(event.state.name) : undefined;
    const parent = event.parentState ? this.machine.states.get(event.parentState.name) : undefined;
    const branching = info?.type === 'Parallel' || info?.type === 'Map';
    switch (event.type) {
      case 'StateEntered': {
        if (!info) return;
        this.append(
          `${info.type}StateEntered`,
          { stateEnteredEventDetails: { name: info.name, ...eventData('input', event.state!.input) } },
          info.lane,
        );
        if (branching) {
          this.history.branchFrom(info.childLanes, this.append(`${info.type}StateStarted`, {}, info.lane));
          this.branches.reset(info.name);
        }
        if (info.type === 'Task' || info.distributed) this.gate(info.name).release();
        return;
      }
      case 'StateRetried': {
        if (info?.type === 'Task' || info?.distributed) this.gate(info.name).release();
        if (info && branching) {
          const last = this.history.lastOf(info.lane);
          if (last) this.history.branchFrom(info.childLanes, last);
          this.branches.reset(info.name);
        }
        return;
      }
      case 'StateExited': {
        if (!info) return;
        if (exceedsPayloadQuota(event.state!.output)) {
          this.exceedDataLimit(dataLimitCause(info.name, 'result'));
          return;
        }
        if (this.caught.delete(info.name)) {
          this.exitState(info, event.state!.output, true);
          return;
        }
        if (this.branches.holdExit(info, event.state!.output)) return;
        this.exitState(info, event.state!.output);
        return;
      }
      case 'StateFailed': {
        if (!info) return;
        if (info.type === 'Task' && event.Error === 'States.Timeout') {
          const attempt = (this.attempts.get(info.name) ?? []).find((open) => !open.closed);
          if (attempt) {
            attempt.closed = true;
            const timedOut = taskEvent(attempt.kind, 'TimedOut', {
              error: 'States.Timeout',
              cause: 'The task did not finish within its TimeoutSeconds.',
            });
            this.append(timedOut.type, timedOut.details, info.lane);
          }
        }
        if (branching) {
          // Sibling branches are abandoned: their running tasks are aborted, as in AWS.
          for (const attempt of [...this.attempts.values()].flat()) {
            if (this.machine.states.get(attempt.stateName)?.ancestors.includes(info.name))
              this.abortAttempt(attempt);
          }
          this.branches.reset(info.name);
          this.append(`${info.type}StateFailed`, {}, info.lane, this.history.lastOfLanes(info.childLanes));
        }
        return;
      }
      case 'StateCaught': {
        // The library then exits the state with the Catch's output (ResultPath applied).
        if (info) this.caught.add(info.name);
        if (info?.type === 'Task' || info?.distributed) this.taskLog.caught(info.name);
        return;
      }
      case 'ParallelBranchStarted':
      case 'MapIterationStarted':
        if (!parent) return;
        this.branches.started(parent);
        if (event.type === 'MapIterationStarted') this.recordMapIteration(event, parent);
        return;
      case 'ParallelBranchSucceeded':
      case 'ParallelBranchFailed':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        if (!parent) return;
        if (event.type.startsWith('MapIteration')) this.recordMapIteration(event, parent);
        const released = this.branches.ended(parent);
        if (released) {
          this.exitState(parent, released.output);
          for (const held of released.events) this.onLibraryEvent(held);
        }
        return;
      }
      default:
        return; // Execution* events: the run's result decides the terminal event.
    }
  }

  private recordMapIteration(event: LibraryEvent, parent: StateInfo): void {
    const key = `mapIteration${event.type.slice('MapIteration'.length)}EventDetails`;
    this.append(
      event.type,
      { [key]: { name: parent.name, index: event.index ?? 0 } },
      parent.childLanes[0] ?? parent.lane,
    );
  }
}
