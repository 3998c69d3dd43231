import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { createSfnClient, loadConfig } from '@mc-vision/core';
import { startStepFunctionsServer, type EmulatorServer } from '@mc-vision/emulators';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executionHistoryReader, executionSummary, historyPageSize } from '../src/execution-history.ts';

// A pipeline's status is polled while it runs: each poll of a process reads only the events added since its
// last one, and answers the same history a full read gives. Against the Step Functions emulator, with tasks
// the test lets finish one at a time.

const machineArn = 'arn:aws:states:us-east-1:000000000000:stateMachine:three-steps';
const lambda = 'arn:aws:lambda:us-east-1:000000000000:function:step';
const steps = 6;

let dataDir: string;
let server: EmulatorServer;
let sfn: SFNClient;
/** Events the service sent in answer to GetExecutionHistory, summed. */
let eventsSent = 0;
const waiting: (() => void)[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mcv-history-'));
  server = await startStepFunctionsServer({
    dataDir,
    stateMachines: [
      {
        name: 'three-steps',
        definition: {
          StartAt: 'Step1',
          States: Object.fromEntries(
            Array.from({ length: steps }, (_, i) => [
              `Step${i + 1}`,
              {
                Type: 'Task',
                Resource: lambda,
                ...(i + 1 < steps ? { Next: `Step${i + 2}` } : { End: true }),
              },
            ]),
          ),
        },
      },
    ],
    taskHandler: (call) =>
      (call.input as { fail?: boolean }).fail
        ? Promise.reject(Object.assign(new Error('the model refused'), { name: 'ProviderModelError' }))
        : new Promise((resolve) => waiting.push(() => resolve({ done: true }))),
  });
  sfn = createSfnClient(loadConfig({ SFN_ENDPOINT: server.url }));
  sfn.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'GetExecutionHistoryCommand') {
        eventsSent += (result.output as { events?: unknown[] }).events?.length ?? 0;
      }
      return result;
    },
    { step: 'initialize', name: 'countHistoryEvents' },
  );
});

afterAll(async () => {
  sfn?.destroy();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function fullHistory(executionArn: string) {
  const { events } = await sfn.send(
    new GetExecutionHistoryCommand({ executionArn, includeExecutionData: false, maxResults: 1000 }),
  );
  return events ?? [];
}

/** Lets the task that is running finish, once it has started. */
async function finishTask(): Promise<void> {
  while (waiting.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  waiting.shift()!();
}

describe('executionHistoryReader', () => {
  it('answers the whole history each poll while reading only the new events', async () => {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn, name: 'polled', input: '{}' }),
    );
    const read = executionHistoryReader(sfn);
    /** Per poll: events in all, events new to it, events sent. */
    const polls: [number, number, number][] = [];
    const poll = async () => {
      const before = eventsSent;
      const known = polls.at(-1)?.[0] ?? 0;
      const events = await read(executionArn!);
      polls.push([events.length, events.length - known, eventsSent - before]);
      expect(events).toEqual(await fullHistory(executionArn!));
      return events;
    };
    for (let step = 0; step < steps; step++) {
      await finishTask();
      await poll();
    }
    while ((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status === 'RUNNING') {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect((await poll()).at(-1)?.type).toBe('ExecutionSucceeded');
    await poll(); // nothing new
    // The first poll read the whole history; each later one a newest page sized by what the one before found
    // new, which held every new event.
    const [first, ...later] = polls;
    expect(first![2]).toBe(first![0]);
    later.forEach(([total, added, sent], i) => {
      const page = historyPageSize(polls[i]![1]);
      expect(added).toBeLessThan(page);
      expect(sent).toBe(Math.min(total, page));
    });
    expect(polls.at(-1)).toEqual([polls.at(-1)![0], 0, historyPageSize(polls.at(-2)![1])]);
  });
});

describe('executionSummary', () => {
  /** What DescribeExecution says of the execution, in executionSummary's terms. */
  async function described(executionArn: string) {
    const { status, startDate, stopDate, error, cause } = await sfn.send(
      new DescribeExecutionCommand({ executionArn }),
    );
    return {
      status,
      startDate,
      ...(stopDate ? { stopDate } : {}),
      ...(error !== undefined ? { error } : {}),
      ...(cause !== undefined ? { cause } : {}),
    };
  }

  it('tells the status, start, stop, error and cause DescribeExecution tells, from the history alone', async () => {
    const start = async (name: string, input: object) =>
      (
        await sfn.send(
          new StartExecutionCommand({ stateMachineArn: machineArn, name, input: JSON.stringify(input) }),
        )
      ).executionArn!;
    const running = await start('running', {});
    await finishTask();
    const failed = await start('failed', { fail: true });
    while ((await sfn.send(new DescribeExecutionCommand({ executionArn: failed }))).status === 'RUNNING') {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(executionSummary(await fullHistory(running))).toEqual(await described(running));
    expect(executionSummary(await fullHistory(failed))).toEqual(await described(failed));
    expect(await described(failed)).toMatchObject({ status: 'FAILED', error: 'ProviderModelError' });

    await sfn.send(
      new StopExecutionCommand({ executionArn: running, error: 'Stopped', cause: 'by the test' }),
    );
    expect(executionSummary(await fullHistory(running))).toEqual(await described(running));
    expect(await described(running)).toMatchObject({
      status: 'ABORTED',
      error: 'Stopped',
      cause: 'by the test',
    });

    const succeeded = await fullHistory(`${machineArn.replace(':stateMachine:', ':execution:')}:polled`);
    expect(executionSummary(succeeded)).toEqual(
      await described(`${machineArn.replace(':stateMachine:', ':execution:')}:polled`),
    );
  });
});
