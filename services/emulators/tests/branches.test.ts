import { describe, expect, it } from '@jest/globals';
import { Branches, type BranchEvent } from '../src/step-functions/branches.ts';
import { analyzeDefinition } from '../src/step-functions/definition.ts';

// Parallel bookkeeping without a run: an exit that arrives before its branches' last events waits for them,
// and so does everything after it from outside the Parallel.

const task = (next?: string) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  ...(next ? { Next: next } : { End: true }),
});
const states = analyzeDefinition({
  StartAt: 'Both',
  States: {
    Both: {
      Type: 'Parallel',
      Branches: [
        { StartAt: 'Left', States: { Left: task() } },
        { StartAt: 'Right', States: { Right: task() } },
      ],
      Next: 'After',
    },
    After: task(),
  },
});
const both = states.get('Both')!;

describe('Branches', () => {
  it('holds an early Parallel exit, and what follows it, until the last branch has ended', () => {
    const branches = new Branches<BranchEvent & { type: string }>(states);
    branches.reset('Both');
    branches.started(both);
    branches.started(both);
    expect(branches.ended(both)).toBeUndefined(); // one of two
    expect(branches.holdExit(both, { out: 1 })).toBe(true);

    const fromRight = { type: 'TaskStateExited', state: { name: 'Right' } };
    const after = { type: 'TaskStateEntered', state: { name: 'After' } };
    expect(branches.defer(fromRight)).toBe(false); // inside the Parallel: recorded now
    expect(branches.defer(after)).toBe(true); // outside: waits for the exit

    expect(branches.ended(both)).toEqual({ output: { out: 1 }, events: [after] });
    expect(branches.defer(after)).toBe(false);
  });

  it('lets a Parallel exit through when its branches have all ended, and any other state at once', () => {
    const branches = new Branches<BranchEvent>(states);
    branches.reset('Both');
    for (let i = 0; i < 2; i++) branches.started(both);
    branches.ended(both);
    branches.ended(both);
    expect(branches.holdExit(both, {})).toBe(false);
    expect(branches.holdExit(states.get('After')!, {})).toBe(false);
  });

  it('starts counting over when the Parallel is retried', () => {
    const branches = new Branches<BranchEvent>(states);
    branches.started(both);
    branches.ended(both);
    branches.ended(both);
    branches.reset('Both');
    expect(branches.holdExit(both, {})).toBe(true); // both branches of the new attempt are still to end
  });
});
