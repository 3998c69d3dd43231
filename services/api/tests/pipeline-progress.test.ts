import { describe, expect, it } from '@jest/globals';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { buildPipelineDefinition, placeholderResources } from '@mc-vision/core';
import { causeMessage, pipelineShape, summarizeSteps } from '../src/pipeline-progress.ts';

// Step progress from histories shaped as AWS writes them, including what the local endpoint does not
// reproduce exactly: a Catch that goes straight to its target without a `TaskStateExited`, a retry waiting.

const shape = pipelineShape(buildPipelineDefinition(placeholderResources));

/** Builds a history: each entry is `[type, previousEventId, details?]`, ids counting from 1. */
function history(...events: [string, number, Partial<HistoryEvent>?][]): HistoryEvent[] {
  const start = Date.parse('2026-01-01T00:00:00Z');
  return events.map(([type, previousEventId, details], i) => ({
    id: i + 1,
    previousEventId,
    type: type as HistoryEvent['type'],
    timestamp: new Date(start + i * 1000),
    ...details,
  }));
}
const entered = (name: string) => ({ stateEnteredEventDetails: { name } });
const exited = (name: string) => ({ stateExitedEventDetails: { name } });
const lambdaFailed = (error: string, errorMessage: string) => ({
  lambdaFunctionFailedEventDetails: {
    error,
    cause: JSON.stringify({ errorType: error, errorMessage, trace: ['at secret (/var/task/index.mjs:1:1)'] }),
  },
});

describe('pipelineShape', () => {
  it('reports the pipeline’s task states in order and leaves out the failure path', () => {
    expect(shape.steps).toEqual([
      'Classify',
      'DescribeWithBedrock',
      'DescribeWithAzure',
      'BuildRecord',
      'SaveResult',
      'Notify',
    ]);
    expect([...shape.failurePath].sort()).toEqual([
      'NotifyPipelineFailure',
      'PipelineFailed',
      'RecordConflict',
    ]);
  });
});

describe('summarizeSteps', () => {
  it('marks a failure caught when the Catch enters its target directly (no exit event)', () => {
    const events = history(
      ['ExecutionStarted', 0],
      ['TaskStateEntered', 1, entered('Classify')],
      ['LambdaFunctionScheduled', 2],
      ['LambdaFunctionStarted', 3],
      ['LambdaFunctionFailed', 4, lambdaFailed('ProviderThrottled', 'slow down')],
      ['LambdaFunctionScheduled', 5],
      ['LambdaFunctionStarted', 6],
      ['LambdaFunctionFailed', 7, lambdaFailed('ProviderUnavailable', 'endpoint is down')],
      ['PassStateEntered', 8, entered('ClassifyFailed')],
      ['PassStateExited', 9, exited('ClassifyFailed')],
      ['ParallelStateEntered', 10, entered('Describe')],
    );
    const [classify, ...rest] = summarizeSteps(shape, events, 'RUNNING');
    expect(classify).toEqual({
      name: 'Classify',
      status: 'caught',
      attempts: 2,
      startedAt: '2026-01-01T00:00:01.000Z',
      endedAt: '2026-01-01T00:00:07.000Z',
      error: { code: 'ProviderUnavailable', message: 'endpoint is down' },
    });
    expect(rest.map((s) => s.status)).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);
  });

  it('shows a step waiting for its retry as running, with the last error', () => {
    const events = history(
      ['ExecutionStarted', 0],
      ['TaskStateEntered', 1, entered('Classify')],
      ['LambdaFunctionScheduled', 2],
      ['LambdaFunctionStarted', 3],
      ['LambdaFunctionFailed', 4, lambdaFailed('ProviderThrottled', 'slow down')],
    );
    expect(summarizeSteps(shape, events, 'RUNNING')[0]).toMatchObject({
      status: 'running',
      attempts: 1,
      error: { code: 'ProviderThrottled', message: 'slow down' },
    });
  });

  it('keeps Parallel branches apart and calls a catch into the failure path a failure', () => {
    const events = history(
      ['ExecutionStarted', 0],
      ['TaskStateEntered', 1, entered('Classify')],
      ['LambdaFunctionScheduled', 2],
      ['LambdaFunctionStarted', 3],
      ['LambdaFunctionSucceeded', 4],
      ['TaskStateExited', 5, exited('Classify')],
      ['PassStateEntered', 6, entered('UseLabelsAsHints')],
      ['PassStateExited', 7, exited('UseLabelsAsHints')],
      ['ParallelStateEntered', 8, entered('Describe')],
      ['ParallelStateStarted', 9],
      ['TaskStateEntered', 10, entered('DescribeWithBedrock')], // 11
      ['TaskStateEntered', 10, entered('DescribeWithAzure')], // 12
      ['LambdaFunctionScheduled', 11], // 13 bedrock
      ['LambdaFunctionScheduled', 12], // 14 azure
      ['LambdaFunctionSucceeded', 13], // 15 bedrock
      ['LambdaFunctionSucceeded', 14], // 16 azure
      ['TaskStateExited', 15, exited('DescribeWithBedrock')], // 17
      ['TaskStateExited', 16, exited('DescribeWithAzure')], // 18
      ['ParallelStateSucceeded', 18], // 19
      ['ParallelStateExited', 19, exited('Describe')], // 20
      ['TaskStateEntered', 20, entered('BuildRecord')], // 21
      ['LambdaFunctionScheduled', 21], // 22
      ['LambdaFunctionFailed', 22, lambdaFailed('InvalidTaskInput', 'bad outcomes')], // 23
      ['TaskStateEntered', 23, entered('NotifyPipelineFailure')], // 24
      ['TaskScheduled', 24], // 25
      ['TaskSucceeded', 25], // 26
      ['TaskStateExited', 26, exited('NotifyPipelineFailure')], // 27
      ['FailStateEntered', 27, entered('PipelineFailed')], // 28
      ['ExecutionFailed', 28, { executionFailedEventDetails: { error: 'InvalidTaskInput' } }],
    );
    expect(summarizeSteps(shape, events, 'FAILED').map((s) => `${s.name}:${s.status}/${s.attempts}`)).toEqual(
      [
        'Classify:succeeded/1',
        'DescribeWithBedrock:succeeded/1',
        'DescribeWithAzure:succeeded/1',
        'BuildRecord:failed/1',
        'SaveResult:pending/0',
        'Notify:pending/0',
      ],
    );
  });

  it('fails the step that was at work when the execution timed out', () => {
    const events = history(
      ['ExecutionStarted', 0],
      ['TaskStateEntered', 1, entered('Classify')],
      ['LambdaFunctionScheduled', 2],
    );
    expect(summarizeSteps(shape, events, 'TIMED_OUT')[0]).toMatchObject({
      status: 'failed',
      error: { code: 'States.TIMED_OUT' },
    });
  });
});

describe('causeMessage', () => {
  it('keeps a Lambda error’s message and drops its stack trace', () => {
    const cause = JSON.stringify({
      errorType: 'Boom',
      errorMessage: 'it broke',
      trace: ['at x (/var/task/a.js:1:1)'],
    });
    expect(causeMessage(cause)).toBe('it broke');
    expect(causeMessage('a plain cause')).toBe('a plain cause');
    expect(causeMessage(undefined)).toBe('');
    expect(causeMessage('x'.repeat(2000))).toHaveLength(500);
  });
});
