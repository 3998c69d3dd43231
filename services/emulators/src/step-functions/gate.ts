// aws-local-stepfunctions' event log is consumed a few microtasks behind the run, so a Task override could run
// before the consumer has recorded the state's entry. Each override waits at its state's gate until the
// consumer has seen as many entries (or retries) of that state as there have been calls.

export class Gate {
  private consumed = 0;
  private calls = 0;
  private waiters: { turn: number; resolve: () => void }[] = [];

  /** The consumer recorded one more entry or retry. */
  release(): void {
    this.consumed += 1;
    this.wake();
  }

  /** Resolves when the consumer has seen as many entries/retries as there have been calls. */
  next(): Promise<void> {
    const turn = ++this.calls;
    if (turn <= this.consumed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ turn, resolve }));
  }

  /** The run ended: nobody waits any more. */
  openAll(): void {
    this.consumed = Number.POSITIVE_INFINITY;
    this.wake();
  }

  private wake(): void {
    const ready = this.waiters.filter((waiter) => waiter.turn <= this.consumed);
    this.waiters = this.waiters.filter((waiter) => waiter.turn > this.consumed);
    for (const waiter of ready) waiter.resolve();
  }
}
