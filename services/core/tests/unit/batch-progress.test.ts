import { describe, expect, it } from '@jest/globals';
import { batchCounts } from '../../src/index.ts';

// A batch's counts from its map run (items, children that failed) and its records (by status).

describe('batchCounts', () => {
  it('counts each item once: a failed child with a failed record is one failure, one without a record another', () => {
    expect(batchCounts({ total: 10, failedChildren: 3 }, { complete: 5, partial: 1, failed: 2 })).toEqual({
      total: 10,
      complete: 5,
      partial: 1,
      failed: 3,
      running: 1,
    });
  });

  it('counts what has no outcome yet as running, and never a negative number', () => {
    expect(batchCounts({ total: 300, failedChildren: 0 }, { complete: 40, partial: 2, failed: 0 })).toEqual({
      total: 300,
      complete: 40,
      partial: 2,
      failed: 0,
      running: 258,
    });
    // Records can be counted before the map run has read its items.
    expect(batchCounts(undefined, { complete: 2, partial: 0, failed: 1 })).toEqual({
      total: 3,
      complete: 2,
      partial: 0,
      failed: 1,
      running: 0,
    });
  });
});
