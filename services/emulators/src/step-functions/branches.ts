import type { StateInfo } from './definition.ts';

// Parallel and inline Map bookkeeping. aws-local-stepfunctions reports branch and iteration events through
// extra hops, so a Parallel's or Map's exit (and what follows it) can reach the log before their last events.
// The run counts branches started and ended per state; an exit that arrives early is held, with every later
// event from outside that state, until the last branch has ended, then replayed in AWS's order.

/** The part of a library event this needs: which state it is about, or which Parallel/Map it belongs to. */
export interface BranchEvent {
  state?: { name: string };
  parentState?: { name: string };
}

export interface HeldExit<Event> {
  output: unknown;
  /** Events that arrived after the exit, to be recorded after it, in order. */
  events: Event[];
}

export class Branches<Event extends BranchEvent> {
  private readonly states: Map<string, StateInfo>;
  private readonly counts = new Map<string, { started: number; ended: number }>();
  private held: (HeldExit<Event> & { state: string }) | undefined;

  constructor(states: Map<string, StateInfo>) {
    this.states = states;
  }

  /** A Parallel/Map is entered, retried or failed: its branches start over. */
  reset(stateName: string): void {
    this.counts.set(stateName, { started: 0, ended: 0 });
  }

  started(parent: StateInfo): void {
    this.count(parent.name).started += 1;
  }

  /** A branch or iteration ended; returns the parent's held exit once nothing is pending for it any more. */
  ended(parent: StateInfo): HeldExit<Event> | undefined {
    this.count(parent.name).ended += 1;
    if (this.held?.state !== parent.name || this.pending(parent) > 0) return undefined;
    const { output, events } = this.held;
    this.held = undefined;
    return { output, events };
  }

  /** At a state's exit: holds it (true) while events of its branches are still to come. */
  holdExit(info: StateInfo, output: unknown): boolean {
    if (this.held || this.pending(info) === 0) return false;
    this.held = { state: info.name, output, events: [] };
    return true;
  }

  /** While an exit is held, events from outside the held state wait behind it (true: the event was queued). */
  defer(event: Event): boolean {
    if (!this.held || this.isWithin(event, this.held.state)) return false;
    this.held.events.push(event);
    return true;
  }

  /** Branches (all of a Parallel's; the Map iterations seen to start) whose end has not been recorded yet. */
  private pending(info: StateInfo): number {
    const count = this.count(info.name);
    if (info.type === 'Parallel') return info.childLanes.length - count.ended;
    if (info.type === 'Map') return count.started - count.ended;
    return 0;
  }

  /** Whether the event comes from inside the Parallel/Map state `name` (its branches or iterations). */
  private isWithin(event: Event, name: string): boolean {
    const state = event.state ?? event.parentState;
    if (!state) return false;
    if (event.parentState?.name === name) return true;
    return this.states.get(state.name)?.ancestors.includes(name) ?? false;
  }

  private count(stateName: string): { started: number; ended: number } {
    let count = this.counts.get(stateName);
    if (!count) {
      count = { started: 0, ended: 0 };
      this.counts.set(stateName, count);
    }
    return count;
  }
}
