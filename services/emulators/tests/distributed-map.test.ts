import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  DescribeStateMachineForExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  ExecutionNotRedrivable,
  InvalidArn,
  InvalidToken,
  ListExecutionsCommand,
  ListMapRunsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  ResourceNotFound,
  StartExecutionCommand,
  ValidationException,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { createSfnClient, loadConfig } from '@mc-vision/core';
import { startStepFunctionsServer, type EmulatorServer, type TaskCall } from '../src/index.ts';
import { eventually, tempDir } from './support.ts';

// The Step Functions emulator's Distributed Map and the actions about it, through @aws-sdk/client-sfn: a map
// run over the state's input (ItemsPath; the S3 ItemReader and ResultWriter run in the local cloud's batch
// tests), its children, tolerated failure, ListMapRuns, DescribeMapRun, ListExecutions by mapRunArn,
// RedriveExecution, ListStateMachines and DescribeStateMachineForExecution, with their errors.

const account = '000000000000';
const machineArn = (name: string) => `arn:aws:states:us-east-1:${account}:stateMachine:${name}`;
const executionArn = (machine: string, name: string) =>
  `arn:aws:states:us-east-1:${account}:execution:${machine}:${name}`;
const lambdaArn = (name: string) => `arn:aws:lambda:us-east-1:${account}:function:${name}`;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Each item's child runs Work: an `ok` item succeeds; a `broken` one fails, its error caught into the Broken Fail
 * state; a `flaky` one fails at Work itself (no Catch) the first time only.
 */
const batch = {
  StartAt: 'Each',
  States: {
    Each: {
      Type: 'Map',
      ItemsPath: '$.items',
      ItemSelector: { 'kind.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index' },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'Work',
        States: {
          Work: {
            Type: 'Task',
            Resource: lambdaArn('work'),
            Catch: [{ ErrorEquals: ['ItemBroken'], ResultPath: '$.error', Next: 'Broken' }],
            Next: 'Done',
          },
          Broken: { Type: 'Fail', Error: 'ItemFailed', Cause: 'the item is broken' },
          Done: { Type: 'Pass', End: true },
        },
      },
      // One child at a time: the items run in order.
      MaxConcurrency: 1,
      ToleratedFailurePercentage: 25,
      Label: 'Items',
      End: true,
    },
  },
};

/** The same map, its failure caught (as core's batch catches it, to send a summary) and then failed on. */
const caught = {
  StartAt: 'Each',
  States: {
    Each: {
      ...batch.States.Each,
      ToleratedFailurePercentage: 0,
      End: undefined,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Summarize' }],
      Next: 'Summarize',
    },
    Summarize: { Type: 'Pass', Next: 'Outcome' },
    Outcome: {
      Type: 'Choice',
      Choices: [{ Variable: '$.failure', IsPresent: true, Next: 'BatchFailed' }],
      Default: 'BatchSucceeded',
    },
    BatchSucceeded: { Type: 'Succeed' },
    BatchFailed: { Type: 'Fail', ErrorPath: '$.failure.Error', Cause: 'too many items failed' },
  },
};

const slow = {
  StartAt: 'Wait',
  States: { Wait: { Type: 'Task', Resource: lambdaArn('wait'), End: true } },
};

describe('the Step Functions emulator with a Distributed Map', () => {
  let server: EmulatorServer;
  let sfn: SFNClient;
  /** Work's calls, by item index, in the children of `batch` and of `caught`. */
  const workCalls = new Map<number, number>();
  const caughtCalls = new Map<number, number>();
  let releaseSlow: () => void = () => {};
  const slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));

  const taskHandler = async (call: TaskCall): Promise<unknown> => {
    if (call.stateName === 'Wait') return slowGate.then(() => ({}));
    const { kind, index } = call.input as { kind: string; index: number };
    const counter = call.stateMachineArn === machineArn('caught/Items') ? caughtCalls : workCalls;
    const calls = (counter.get(index) ?? 0) + 1;
    counter.set(index, calls);
    if (kind === 'broken') throw Object.assign(new Error('cannot read it'), { name: 'ItemBroken' });
    if (kind === 'flaky' && calls === 1) throw Object.assign(new Error('try again'), { name: 'Transient' });
    return { done: index };
  };

  beforeAll(async () => {
    server = await startStepFunctionsServer({
      dataDir: await tempDir(),
      stateMachines: [
        { name: 'batch', definition: batch },
        { name: 'caught', definition: JSON.parse(JSON.stringify(caught)) },
        { name: 'slow', definition: slow },
      ],
      taskHandler,
    });
    sfn = createSfnClient(loadConfig({ SFN_ENDPOINT: server.url }));
  }, 30_000);
  afterAll(async () => {
    releaseSlow();
    await server.close();
  });

  async function ended(arn: string) {
    return eventually(async () => {
      const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
      return execution.status !== 'RUNNING' ? execution : undefined;
    });
  }

  it('lists its state machines, not the ones its Distributed Maps run their items in, page by page', async () => {
    const first = await sfn.send(new ListStateMachinesCommand({ maxResults: 1 }));
    expect(first.stateMachines).toEqual([
      {
        stateMachineArn: machineArn('batch'),
        name: 'batch',
        type: 'STANDARD',
        creationDate: expect.any(Date),
      },
    ]);
    const rest = await sfn.send(new ListStateMachinesCommand({ maxResults: 5, nextToken: first.nextToken }));
    expect(rest.stateMachines!.map((machine) => machine.name)).toEqual(['caught', 'slow']);
    expect(rest.nextToken).toBeUndefined();
    await expect(sfn.send(new ListStateMachinesCommand({ nextToken: 'garbage' }))).rejects.toBeInstanceOf(
      InvalidToken,
    );
  });

  it('runs the items as child executions of a map run, and fails once more of them failed than it tolerates', async () => {
    const parentArn = executionArn('batch', 'four');
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machineArn('batch'),
        name: 'four',
        input: JSON.stringify({ items: ['ok', 'ok', 'broken', 'flaky'] }),
      }),
    );
    const parent = await ended(parentArn);
    // Item 2 is one failure of four (25%, tolerated); item 3 is the second.
    expect(parent).toMatchObject({ status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold' });

    const { mapRuns } = await sfn.send(new ListMapRunsCommand({ executionArn: parentArn }));
    expect(mapRuns).toHaveLength(1);
    const mapRunArn = mapRuns![0]!.mapRunArn!;
    expect(mapRunArn).toMatch(/^arn:aws:states:us-east-1:000000000000:mapRun:batch\/Items:/);
    expect(mapRunArn.split(':').at(-1)).toMatch(uuid);
    expect(mapRuns![0]).toMatchObject({ executionArn: parentArn, startDate: expect.any(Date) });

    const mapRun = await sfn.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(mapRun).toMatchObject({
      mapRunArn,
      executionArn: parentArn,
      status: 'FAILED',
      maxConcurrency: 1,
      toleratedFailurePercentage: 25,
      itemCounts: { total: 4, pending: 0, running: 0, succeeded: 2, failed: 2, timedOut: 0, aborted: 0 },
      executionCounts: { total: 4, succeeded: 2, failed: 2 },
      redriveCount: 0,
    });

    // The children: executions of `batch/Items`, named by UUIDs, newest first.
    const children = (await sfn.send(new ListExecutionsCommand({ mapRunArn }))).executions!;
    expect(children).toHaveLength(4);
    for (const child of children) {
      expect(child.stateMachineArn).toBe(machineArn('batch/Items'));
      expect(child.name).toMatch(uuid);
      expect(child.executionArn).toBe(executionArn('batch/Items', child.name!));
      expect(child.mapRunArn).toBe(mapRunArn);
    }
    const failed = (await sfn.send(new ListExecutionsCommand({ mapRunArn, statusFilter: 'FAILED' })))
      .executions!;
    expect(failed).toHaveLength(2);
    const child = await sfn.send(new DescribeExecutionCommand({ executionArn: failed[0]!.executionArn }));
    expect(child).toMatchObject({ mapRunArn, redriveStatus: 'REDRIVABLE_BY_MAP_RUN' });

    // What the state machine of a child is: the map's own, with its label and map run.
    const childMachine = await sfn.send(
      new DescribeStateMachineForExecutionCommand({ executionArn: failed[0]!.executionArn }),
    );
    expect(childMachine).toMatchObject({
      stateMachineArn: machineArn('batch/Items'),
      label: 'Items',
      mapRunArn,
    });
    expect(JSON.parse(childMachine.definition!)).toEqual({
      StartAt: 'Work',
      States: batch.States.Each.ItemProcessor.States,
    });
    const parentMachine = await sfn.send(
      new DescribeStateMachineForExecutionCommand({ executionArn: parentArn }),
    );
    expect(parentMachine).toMatchObject({ stateMachineArn: machineArn('batch'), name: 'batch' });
    expect(parentMachine.mapRunArn).toBeUndefined();
    expect(JSON.parse(parentMachine.definition!)).toEqual(batch);

    // Only the parent starts (and redrives) them.
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn('batch/Items') })),
    ).rejects.toBeInstanceOf(ValidationException);
    await expect(
      sfn.send(new RedriveExecutionCommand({ executionArn: failed[0]!.executionArn })),
    ).rejects.toBeInstanceOf(ExecutionNotRedrivable);
  });

  it('redrives the map run from where each failed child stopped: a Fail state fails again, a Task runs again', async () => {
    const parentArn = executionArn('batch', 'four');
    const redriven = await sfn.send(new RedriveExecutionCommand({ executionArn: parentArn }));
    expect(redriven.redriveDate).toBeInstanceOf(Date);
    const parent = await ended(parentArn);
    // One child of four failed now: tolerated.
    expect(parent).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
    // The broken item re-entered its Fail state (as AWS does) without running Work again; the flaky one ran
    // Work again and succeeded; the two that had succeeded did not run again.
    expect(Object.fromEntries(workCalls)).toEqual({ 0: 1, 1: 1, 2: 1, 3: 2 });

    const { mapRuns } = await sfn.send(new ListMapRunsCommand({ executionArn: parentArn }));
    const mapRunArn = mapRuns![0]!.mapRunArn!;
    expect(await sfn.send(new DescribeMapRunCommand({ mapRunArn }))).toMatchObject({
      status: 'SUCCEEDED',
      redriveCount: 1,
      redriveDate: expect.any(Date),
      itemCounts: { total: 4, succeeded: 3, failed: 1 },
    });
    const rerun = await sfn.send(new ListExecutionsCommand({ mapRunArn, redriveFilter: 'REDRIVEN' }));
    expect(rerun.executions!.map((execution) => execution.status).sort()).toEqual(['FAILED', 'SUCCEEDED']);
    const broken = rerun.executions!.find((execution) => execution.status === 'FAILED')!;
    expect(await sfn.send(new DescribeExecutionCommand({ executionArn: broken.executionArn }))).toMatchObject(
      {
        error: 'ItemFailed',
        cause: 'the item is broken',
        redriveCount: 1,
      },
    );

    // A batch that succeeded is not redriven.
    await expect(sfn.send(new RedriveExecutionCommand({ executionArn: parentArn }))).rejects.toBeInstanceOf(
      ExecutionNotRedrivable,
    );
  });

  it("redrives an execution that caught its map run's failure from its Fail state: the map run is not redriven", async () => {
    const parentArn = executionArn('caught', 'one-broken');
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machineArn('caught'),
        name: 'one-broken',
        input: JSON.stringify({ items: ['ok', 'broken'] }),
      }),
    );
    expect(await ended(parentArn)).toMatchObject({
      status: 'FAILED',
      error: 'States.ExceedToleratedFailureThreshold',
    });
    expect(Object.fromEntries(caughtCalls)).toEqual({ 0: 1, 1: 1 });

    await sfn.send(new RedriveExecutionCommand({ executionArn: parentArn }));
    expect(await ended(parentArn)).toMatchObject({
      status: 'FAILED',
      error: 'States.ExceedToleratedFailureThreshold',
      redriveCount: 1,
    });
    const { mapRuns } = await sfn.send(new ListMapRunsCommand({ executionArn: parentArn }));
    expect(await sfn.send(new DescribeMapRunCommand({ mapRunArn: mapRuns![0]!.mapRunArn }))).toMatchObject({
      status: 'FAILED',
      redriveCount: 0,
    });
    // Nothing ran again: the execution re-entered BatchFailed, past the caught map run.
    expect(Object.fromEntries(caughtCalls)).toEqual({ 0: 1, 1: 1 });
    const history = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: parentArn, reverseOrder: true, maxResults: 3 }),
    );
    expect(history.events!.map((event) => event.type)).toEqual([
      'ExecutionFailed',
      'FailStateEntered',
      'ChoiceStateExited',
    ]);
  });

  it('answers RedriveExecution on an unknown, a malformed or a running execution with the errors AWS gives', async () => {
    await expect(
      sfn.send(new RedriveExecutionCommand({ executionArn: executionArn('batch', 'never') })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(
      sfn.send(new RedriveExecutionCommand({ executionArn: 'not-an-arn' })),
    ).rejects.toBeInstanceOf(InvalidArn);
    await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn('slow'), name: 'waiting' }));
    const running = sfn.send(new RedriveExecutionCommand({ executionArn: executionArn('slow', 'waiting') }));
    await expect(running).rejects.toBeInstanceOf(ExecutionNotRedrivable);
    await expect(running).rejects.toThrow('Execution is RUNNING and cannot be redriven');
  });

  it('answers the map run actions with the errors AWS gives', async () => {
    const unknownMapRun = `arn:aws:states:us-east-1:${account}:mapRun:batch/Items:${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`;
    await expect(sfn.send(new DescribeMapRunCommand({ mapRunArn: unknownMapRun }))).rejects.toBeInstanceOf(
      ResourceNotFound,
    );
    await expect(sfn.send(new DescribeMapRunCommand({ mapRunArn: 'not-an-arn' }))).rejects.toBeInstanceOf(
      InvalidArn,
    );
    await expect(
      sfn.send(new ListMapRunsCommand({ executionArn: executionArn('batch', 'never') })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(
      sfn.send(new ListMapRunsCommand({ executionArn: executionArn('batch', 'four'), nextToken: 'garbage' })),
    ).rejects.toBeInstanceOf(InvalidToken);
    await expect(sfn.send(new ListExecutionsCommand({ mapRunArn: unknownMapRun }))).rejects.toBeInstanceOf(
      ResourceNotFound,
    );
    await expect(
      sfn.send(new ListExecutionsCommand({ mapRunArn: unknownMapRun, stateMachineArn: machineArn('batch') })),
    ).rejects.toBeInstanceOf(ValidationException);
    await expect(
      sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn: executionArn('batch', 'never') })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  });
});
