import type { ExecutionRecord } from './store.ts';

// The emulator's memory of an execution's Task attempts (state, effective input, result or error; a Distributed
// Map state's map run counts as one), kept in its record, so that running it again continues where it stopped
// instead of doing finished work twice:
// - after a restart (`resume`), and after RedriveExecution (`redrive`), each Task gets back what the previous run
//   got at that point, successes and the failures a Catch handled alike, until the run reaches the state it
//   stopped in; that state (and everything after it) runs for real. This is how Step Functions redrives: "it
//   continues the failed execution from the unsuccessful step", and the states before it keep their outcome.
// - so an execution that ended in a Fail state re-enters that Fail state and fails again, as in AWS (the steps
//   that led there, a caught provider failure among them, are not re-run); one that failed at a Task, timed out
//   or was stopped runs that Task again with its full Retry policy.
// Attempts that were retried until they succeeded are forgotten once they have: only the success is replayed.

export type TaskAttempt = NonNullable<ExecutionRecord['taskAttempts']>[number];

export class TaskLog {
  private readonly replay: TaskAttempt[];
  private readonly attempts: TaskAttempt[];

  /** `previous`: the last run's attempts, to replay (none for a first run). */
  constructor(record: ExecutionRecord, previous: readonly TaskAttempt[]) {
    this.replay = [...previous];
    // The attempts that stopped the last run (failed, and no Catch took them) are tried again, not replayed.
    while (this.replay.length > 0 && this.replay.at(-1)!.error !== undefined && !this.replay.at(-1)!.caught) {
      this.replay.pop();
    }
    record.taskAttempts = [];
    this.attempts = record.taskAttempts;
  }

  /** The previous run's outcome of this Task for this input, once, in order; undefined when it has to run. */
  take(state: string, input: string): TaskAttempt | undefined {
    const index = this.replay.findIndex((attempt) => attempt.state === state && attempt.input === input);
    return index < 0 ? undefined : this.replay.splice(index, 1)[0];
  }

  succeeded(state: string, input: string, output: string): void {
    const retried = (attempt: TaskAttempt) =>
      attempt.state === state && attempt.input === input && attempt.error !== undefined && !attempt.caught;
    for (let index = this.attempts.length - 1; index >= 0; index -= 1) {
      if (retried(this.attempts[index]!)) this.attempts.splice(index, 1);
    }
    this.attempts.push({ state, input, output });
  }

  failed(state: string, input: string, error: string, cause: string): void {
    this.attempts.push({ state, input, error, cause });
  }

  /** A Catch took the state's error: its failed attempts are outcomes the flow went on from. */
  caught(state: string): void {
    for (const attempt of this.attempts) {
      if (attempt.state === state && attempt.error !== undefined) attempt.caught = true;
    }
  }
}
