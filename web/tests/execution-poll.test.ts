import { describe, expect, it } from '@jest/globals';
import type { PipelineStatusResponse } from '@mc-vision/core/schemas';
import { ApiError } from '../src/api.ts';
import { maxConsecutivePollErrors, nextPollDelay, pollExecution } from '../src/execution-poll.ts';
import { pipelineStatus } from './fixtures.ts';

/** Plays a script of answers (a status or an error) and records the delays the loop asked for. */
function script(steps: Array<PipelineStatusResponse | Error>) {
  const delays: number[] = [];
  const updates: string[] = [];
  const errors: number[] = [];
  let calls = 0;
  const controller = new AbortController();
  const run = () =>
    pollExecution({
      get: async () => {
        const step = steps[Math.min(calls++, steps.length - 1)]!;
        if (step instanceof Error) throw step;
        return step;
      },
      onUpdate: (status) => updates.push(status.status),
      onError: (_error, count) => errors.push(count),
      signal: controller.signal,
      sleep: async (ms) => void delays.push(ms),
    });
  return { run, delays, updates, errors, controller, calls: () => calls };
}

const unavailable = () => new ApiError(503, 'not_ready', 'Step Functions is not ready');

describe('pollExecution', () => {
  it('polls every second until a terminal status and returns it', async () => {
    const poll = script([pipelineStatus('RUNNING'), pipelineStatus('RUNNING'), pipelineStatus('SUCCEEDED')]);
    const final = await poll.run();
    expect(final?.status).toBe('SUCCEEDED');
    expect(final?.output?.requestId).toBe('req-1');
    expect(poll.updates).toEqual(['RUNNING', 'RUNNING', 'SUCCEEDED']);
    expect(poll.delays).toEqual([1000, 1000]);
  });

  it('stops at FAILED too', async () => {
    const poll = script([pipelineStatus('FAILED')]);
    expect((await poll.run())?.status).toBe('FAILED');
    expect(poll.calls()).toBe(1);
  });

  it('backs off while polls fail and returns to one second after a success', async () => {
    const poll = script([
      pipelineStatus('RUNNING'),
      unavailable(),
      unavailable(),
      unavailable(),
      pipelineStatus('RUNNING'),
      pipelineStatus('SUCCEEDED'),
    ]);
    await poll.run();
    expect(poll.errors).toEqual([1, 2, 3]);
    expect(poll.delays).toEqual([1000, 2000, 4000, 8000, 1000]);
  });

  it('gives up with the last error after too many failures in a row', async () => {
    const poll = script([unavailable()]);
    await expect(poll.run()).rejects.toMatchObject({ code: 'not_ready' });
    expect(poll.calls()).toBe(maxConsecutivePollErrors);
  });

  it('returns nothing once aborted', async () => {
    const poll = script([pipelineStatus('RUNNING')]);
    poll.controller.abort();
    await expect(poll.run()).resolves.toBeUndefined();
    expect(poll.calls()).toBe(0);
  });

  it('caps the back-off at 15 seconds', () => {
    expect(nextPollDelay(0)).toBe(1000);
    expect(nextPollDelay(10)).toBe(15_000);
  });
});
