import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandOutput,
  InvalidArn,
  InvalidExecutionInput,
  InvalidName,
  InvalidToken,
  ListExecutionsCommand,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import {
  buildPipelineDefinition,
  createSfnClient,
  loadConfig,
  pipelineSaveCondition,
  placeholderResources,
} from '@mc-vision/core';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  readExecutions,
  startStepFunctionsServer,
  type EmulatorServer,
  type ExecutionEvent,
  type TaskCall,
} from '../src/index.ts';
import { eventually, tempDir } from './support.ts';

const account = '000000000000';
const machineArn = (name: string) => `arn:aws:states:us-east-1:${account}:stateMachine:${name}`;
const lambdaArn = (name: string) => `arn:aws:lambda:us-east-1:${account}:function:${name}`;

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** The shape of core's pipeline: a Lambda task with Retry, a Parallel with Retry and Catch, a service integration. */
const pipeline = {
  StartAt: 'Classify',
  States: {
    Classify: {
      Type: 'Task',
      Resource: lambdaArn('worker'),
      Retry: [{ ErrorEquals: ['ProviderThrottled'], IntervalSeconds: 1, MaxAttempts: 2 }],
      ResultPath: '$.classification',
      Next: 'Describe',
    },
    Describe: {
      Type: 'Parallel',
      ResultPath: '$.descriptions',
      Branches: [
        {
          StartAt: 'DescribeWithBedrock',
          States: {
            DescribeWithBedrock: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke',
              Parameters: { FunctionName: lambdaArn('worker'), 'Payload.$': '$' },
              ResultSelector: { 'caption.$': '$.Payload.caption' },
              Retry: [{ ErrorEquals: ['ProviderThrottled'], MaxAttempts: 3 }],
              End: true,
            },
          },
        },
        {
          StartAt: 'DescribeWithAzure',
          States: {
            DescribeWithAzure: {
              Type: 'Task',
              Resource: lambdaArn('worker'),
              Retry: [{ ErrorEquals: ['ProviderThrottled'], MaxAttempts: 3 }],
              Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'AzureFailed' }],
              End: true,
            },
            AzureFailed: { Type: 'Pass', Parameters: { 'error.$': '$.error' }, End: true },
          },
        },
      ],
      Next: 'SaveResult',
    },
    SaveResult: {
      Type: 'Task',
      Resource: 'arn:aws:states:::dynamodb:putItem',
      Parameters: {
        TableName: 'results',
        Item: { 'requestId.$': '$.requestId', 'caption.$': '$.descriptions[0].caption' },
      },
      ResultPath: null,
      End: true,
    },
  },
};

/** Groups events into the root and each Parallel branch by following previousEventId, as AWS links them. */
function lanes(events: HistoryEvent[]): string[][] {
  const laneOf = new Map<number, number>();
  const result: string[][] = [[]];
  const byId = new Map(events.map((event) => [event.id!, event]));
  for (const event of events) {
    const previous = byId.get(event.previousEventId ?? 0);
    let lane = previous ? laneOf.get(previous.id!)! : 0;
    if (event.type?.startsWith('ParallelState') && event.type !== 'ParallelStateEntered') lane = 0;
    else if (previous?.type === 'ParallelStateStarted') lane = result.push([]) - 1;
    laneOf.set(event.id!, lane);
    result[lane]!.push(
      `${event.type}${event.stateEnteredEventDetails ? `:${event.stateEnteredEventDetails.name}` : ''}`,
    );
  }
  return result;
}

async function waitForStatus(sfn: SFNClient, executionArn: string, status = 'RUNNING') {
  return eventually(async () => {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return execution.status !== status ? execution : undefined;
  });
}

async function fullHistory(sfn: SFNClient, executionArn: string) {
  return (await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events ?? [];
}

describe('Step Functions emulator', () => {
  let dataDir: string;
  let server: EmulatorServer;
  let sfn: SFNClient;
  const calls: TaskCall[] = [];
  const attempts = new Map<string, number>();
  /** Tasks of `slow` wait here until released, so tests can see RUNNING executions. */
  let releaseSlow: () => void = () => {};
  let slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));

  const taskHandler = async (call: TaskCall): Promise<unknown> => {
    calls.push(call);
    const attempt = (attempts.get(`${call.executionArn}/${call.stateName}`) ?? 0) + 1;
    attempts.set(`${call.executionArn}/${call.stateName}`, attempt);
    switch (call.stateName) {
      case 'Classify':
        if (attempt === 1) throw namedError('ProviderThrottled', 'slow down');
        return { labels: ['pelican'] };
      case 'DescribeWithBedrock':
        return { Payload: { caption: 'A photo of a pelican.' }, StatusCode: 200 };
      case 'DescribeWithAzure':
        throw namedError('ProviderModelError', 'the model refused');
      case 'SaveResult':
        return {};
      case 'Wait':
        await slowGate;
        return { waited: true };
      case 'Hang':
        return new Promise(() => {});
      case 'Double':
        return (call.input as number) * 2;
      case 'Grow':
        return 'g'.repeat(200 * 1024);
      case 'Flood':
        return 'f'.repeat(300 * 1024);
      default:
        throw new Error(`unexpected state ${call.stateName}`);
    }
  };

  const machines = [
    { name: 'pipeline', definition: pipeline },
    {
      name: 'slow',
      definition: {
        StartAt: 'Wait',
        States: { Wait: { Type: 'Task', Resource: lambdaArn('w'), End: true } },
      },
    },
    {
      name: 'map',
      definition: {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemProcessor: {
              StartAt: 'Double',
              States: { Double: { Type: 'Task', Resource: lambdaArn('d'), End: true } },
            },
            End: true,
          },
        },
      },
    },
    {
      name: 'data-limit',
      definition: {
        StartAt: 'Grow',
        States: {
          // 200 KiB of result beside 100 KiB of input: each under the quota, the state's output over it.
          Grow: {
            Type: 'Task',
            Resource: lambdaArn('g'),
            ResultPath: '$.grown',
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
            End: true,
          },
          Caught: { Type: 'Pass', End: true },
        },
      },
    },
    {
      name: 'data-limit-result',
      definition: {
        StartAt: 'Flood',
        States: {
          Flood: {
            Type: 'Task',
            Resource: lambdaArn('f'),
            Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 3 }],
            End: true,
          },
        },
      },
    },
    {
      name: 'data-limit-input',
      definition: {
        StartAt: 'Echo',
        States: {
          Echo: {
            Type: 'Task',
            Resource: lambdaArn('e'),
            Parameters: { 'a.$': '$.pad', 'b.$': '$.pad', 'c.$': '$.pad' },
            End: true,
          },
        },
      },
    },
    {
      name: 'data-limit-pass',
      definition: {
        StartAt: 'Triple',
        States: {
          Triple: {
            Type: 'Pass',
            Parameters: { 'a.$': '$.pad', 'b.$': '$.pad', 'c.$': '$.pad' },
            Next: 'Never',
          },
          Never: { Type: 'Pass', End: true },
        },
      },
    },
    {
      name: 'task-timeout',
      definition: {
        StartAt: 'Hang',
        States: { Hang: { Type: 'Task', Resource: lambdaArn('h'), TimeoutSeconds: 1, End: true } },
      },
    },
    {
      name: 'machine-timeout',
      definition: JSON.stringify({
        TimeoutSeconds: 1,
        StartAt: 'Hang',
        States: { Hang: { Type: 'Task', Resource: lambdaArn('h'), End: true } },
      }),
    },
  ];

  const start = () =>
    startStepFunctionsServer({
      dataDir,
      stateMachines: machines,
      taskHandler,
      retryIntervalOverrides: { Classify: 0, DescribeWithBedrock: 0, DescribeWithAzure: 0, Flood: 0 },
    });

  beforeAll(async () => {
    dataDir = await tempDir();
    server = await start();
    sfn = createSfnClient(loadConfig({ SFN_ENDPOINT: server.url }));
  });
  afterAll(async () => {
    releaseSlow();
    await server?.close();
  });

  it('runs Parallel, Retry and Catch, handing each Task its effective input', async () => {
    const { executionArn, startDate } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machineArn('pipeline'),
        name: 'req-1',
        input: JSON.stringify({ requestId: 'req-1', key: 'images/a.jpg' }),
      }),
    );
    expect(executionArn).toBe(`arn:aws:states:us-east-1:${account}:execution:pipeline:req-1`);
    expect(startDate).toBeInstanceOf(Date);

    const done = await waitForStatus(sfn, executionArn!);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.stopDate!.getTime()).toBeGreaterThanOrEqual(done.startDate!.getTime());
    const output = JSON.parse(done.output!);
    expect(output.classification).toEqual({ labels: ['pelican'] });
    expect(output.descriptions[0]).toEqual({ caption: 'A photo of a pelican.' });
    expect(output.descriptions[1].error.Error).toBe('ProviderModelError');
    // A Lambda's failure reaches Catch as the runtime's error payload, as in AWS.
    expect(JSON.parse(output.descriptions[1].error.Cause)).toMatchObject({
      errorType: 'ProviderModelError',
      errorMessage: 'the model refused',
    });

    const mine = calls.filter((call) => call.executionArn === executionArn);
    expect(mine.filter((call) => call.stateName === 'Classify')).toHaveLength(2);
    expect(mine.find((call) => call.stateName === 'DescribeWithBedrock')).toMatchObject({
      resource: 'arn:aws:states:::lambda:invoke',
      input: {
        FunctionName: lambdaArn('worker'),
        Payload: { requestId: 'req-1', key: 'images/a.jpg', classification: { labels: ['pelican'] } },
      },
    });
    expect(mine.find((call) => call.stateName === 'SaveResult')).toMatchObject({
      stateMachineArn: machineArn('pipeline'),
      resource: 'arn:aws:states:::dynamodb:putItem',
      input: { TableName: 'results', Item: { requestId: 'req-1', caption: 'A photo of a pelican.' } },
    });
  });

  it('records the history AWS would: event types, order, ids and links', async () => {
    const executionArn = `arn:aws:states:us-east-1:${account}:execution:pipeline:req-1`;
    const events = await fullHistory(sfn, executionArn);
    expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
    for (const [index, event] of events.entries()) {
      expect(event.timestamp).toBeInstanceOf(Date);
      if (index > 0)
        expect(event.timestamp!.getTime()).toBeGreaterThanOrEqual(events[index - 1]!.timestamp!.getTime());
      expect(event.previousEventId).toBeLessThan(event.id!);
    }
    expect(lanes(events)).toEqual([
      [
        'ExecutionStarted',
        'TaskStateEntered:Classify',
        'LambdaFunctionScheduled',
        'LambdaFunctionStarted',
        'LambdaFunctionFailed',
        'LambdaFunctionScheduled',
        'LambdaFunctionStarted',
        'LambdaFunctionSucceeded',
        'TaskStateExited',
        'ParallelStateEntered:Describe',
        'ParallelStateStarted',
        'ParallelStateSucceeded',
        'ParallelStateExited',
        'TaskStateEntered:SaveResult',
        'TaskScheduled',
        'TaskStarted',
        'TaskSucceeded',
        'TaskStateExited',
        'ExecutionSucceeded',
      ],
      [
        'TaskStateEntered:DescribeWithBedrock',
        'TaskScheduled',
        'TaskStarted',
        'TaskSucceeded',
        'TaskStateExited',
      ],
      [
        'TaskStateEntered:DescribeWithAzure',
        'LambdaFunctionScheduled',
        'LambdaFunctionStarted',
        'LambdaFunctionFailed',
        'TaskStateExited',
        'PassStateEntered:AzureFailed',
        'PassStateExited',
      ],
    ]);

    const byType = (type: string) => events.filter((event) => event.type === type);
    expect(events[0]!.executionStartedEventDetails).toMatchObject({
      input: JSON.stringify({ requestId: 'req-1', key: 'images/a.jpg' }),
      roleArn: `arn:aws:iam::${account}:role/pipeline-role`,
    });
    expect(byType('LambdaFunctionFailed')[0]!.lambdaFunctionFailedEventDetails).toMatchObject({
      error: 'ProviderThrottled',
    });
    expect(byType('TaskScheduled')[0]!.taskScheduledEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
      region: 'us-east-1',
    });
    const save = byType('TaskScheduled')[1]!.taskScheduledEventDetails!;
    expect(save).toMatchObject({ resourceType: 'dynamodb', resource: 'putItem' });
    expect(JSON.parse(save.parameters!)).toEqual({
      TableName: 'results',
      Item: { requestId: 'req-1', caption: 'A photo of a pelican.' },
    });
    const last = events.at(-1)!;
    expect(JSON.parse(last.executionSucceededEventDetails!.output!).requestId).toBe('req-1');

    // Paging and reverse order give the same events.
    const pages: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 7, nextToken }));
      pages.push(...page.events!);
      nextToken = page.nextToken;
    } while (nextToken);
    expect(pages).toEqual(events);
    const reversed = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true }));
    expect(reversed.events).toEqual([...events].reverse());
    // Newest first a few at a time, as the API polls: every event once, the last page the oldest.
    const reversePages: HistoryEvent[] = [];
    nextToken = undefined;
    do {
      const page: GetExecutionHistoryCommandOutput = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 5, nextToken }),
      );
      reversePages.push(...page.events!);
      nextToken = page.nextToken;
    } while (nextToken);
    expect(reversePages).toEqual([...events].reverse());
    const withoutData = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, includeExecutionData: false }),
    );
    expect(withoutData.events![0]!.executionStartedEventDetails).toEqual({
      roleArn: `arn:aws:iam::${account}:role/pipeline-role`,
    });
    // Without data, each event keeps every field but its input, output and parameters.
    const { parameters: _parameters, ...scheduledWithoutData } =
      byType('TaskScheduled')[0]!.taskScheduledEventDetails!;
    expect(withoutData.events!.find((e) => e.type === 'TaskScheduled')!.taskScheduledEventDetails).toEqual(
      scheduledWithoutData,
    );
    const {
      output: _output,
      outputDetails: _outputDetails,
      ...succeededWithoutData
    } = last.executionSucceededEventDetails!;
    expect(withoutData.events!.at(-1)!).toEqual({
      ...last,
      executionSucceededEventDetails: succeededWithoutData,
    });
  });

  it('pages a growing history newest first without repeating an event: a page token is not moved by new events', async () => {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn('slow'), name: 'growing' }),
    );
    // Its task has been called: it waits there, with its start, state entry and schedule in the history.
    await eventually(async () =>
      calls.some((call) => call.executionArn === executionArn) ? true : undefined,
    );
    const running = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 2 }),
    );
    expect(running.nextToken).toBeDefined();
    // The execution moves on between the first page and the next: its new events are newer than both.
    releaseSlow();
    expect((await waitForStatus(sfn, executionArn!)).status).toBe('SUCCEEDED');
    const older: HistoryEvent[] = [];
    let nextToken = running.nextToken;
    while (nextToken) {
      const page: GetExecutionHistoryCommandOutput = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 2, nextToken }),
      );
      older.push(...page.events!);
      nextToken = page.nextToken;
    }
    const seen = [...running.events!, ...older].map((event) => event.id);
    const firstId = running.events![0]!.id!;
    expect(seen).toEqual(Array.from({ length: firstId }, (_, index) => firstId - index));
    slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));
  });

  it('is idempotent for the same name and input while running, and refuses any other reuse of a name', async () => {
    const request = { stateMachineArn: machineArn('slow'), name: 'once', input: '{"n":1}' };
    const first = await sfn.send(new StartExecutionCommand(request));
    const again = await sfn.send(new StartExecutionCommand(request));
    expect(again).toMatchObject({ executionArn: first.executionArn, startDate: first.startDate });

    await expect(
      sfn.send(new StartExecutionCommand({ ...request, input: '{"n":2}' })),
    ).rejects.toBeInstanceOf(ExecutionAlreadyExists);

    releaseSlow();
    expect((await waitForStatus(sfn, first.executionArn!)).status).toBe('SUCCEEDED');
    // Like AWS: once the execution is closed, its name cannot be reused, whatever the input.
    await expect(sfn.send(new StartExecutionCommand(request))).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));
  });

  it('answers bad requests with the errors the SDK knows', async () => {
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn('missing') })),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn('slow'), name: 'has space' })),
    ).rejects.toBeInstanceOf(InvalidName);
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn('slow'), input: '{not json' })),
    ).rejects.toBeInstanceOf(InvalidExecutionInput);
    await expect(
      sfn.send(
        new DescribeExecutionCommand({
          executionArn: `arn:aws:states:us-east-1:${account}:execution:slow:nope`,
        }),
      ),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(
      sfn.send(new DescribeExecutionCommand({ executionArn: 'not-an-arn' })),
    ).rejects.toBeInstanceOf(InvalidArn);
    await expect(
      sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn('slow'), nextToken: 'garbage' })),
    ).rejects.toBeInstanceOf(InvalidToken);

    const raw = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AWSStepFunctions.DeleteEverything',
      },
      body: '{}',
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toMatchObject({ __type: 'UnknownOperationException' });
    const notJson = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AWSStepFunctions.StartExecution',
      },
      body: 'nope',
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ __type: 'SerializationException' });
  });

  it('stops a running execution, and lists executions newest first with status filter and pages', async () => {
    const started: string[] = [];
    for (const name of ['list-a', 'list-b', 'list-c']) {
      started.push(
        (await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn('slow'), name })))
          .executionArn!,
      );
    }
    const stop = await sfn.send(
      new StopExecutionCommand({ executionArn: started[1], error: 'Manual', cause: 'stopped by a test' }),
    );
    expect(stop.stopDate).toBeInstanceOf(Date);
    const stopped = await sfn.send(new DescribeExecutionCommand({ executionArn: started[1] }));
    expect(stopped).toMatchObject({ status: 'ABORTED', error: 'Manual', cause: 'stopped by a test' });
    const history = await fullHistory(sfn, started[1]!);
    expect(history.slice(-2).map((event) => event.type)).toEqual(['TaskStateAborted', 'ExecutionAborted']);
    expect(history.at(-1)!.executionAbortedEventDetails).toEqual({
      error: 'Manual',
      cause: 'stopped by a test',
    });

    const running = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: machineArn('slow'), statusFilter: 'RUNNING' }),
    );
    expect(running.executions!.map((execution) => execution.name)).toEqual(['list-c', 'list-a']);
    const aborted = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: machineArn('slow'), statusFilter: 'ABORTED' }),
    );
    expect(aborted.executions!.map((execution) => execution.name)).toEqual(['list-b']);
    expect(aborted.executions![0]!.stopDate).toBeInstanceOf(Date);

    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(
        new ListExecutionsCommand({ stateMachineArn: machineArn('slow'), maxResults: 2, nextToken }),
      );
      expect(page.executions!.length).toBeLessThanOrEqual(2);
      names.push(...page.executions!.map((execution) => execution.name!));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(names).toEqual(['list-c', 'list-b', 'list-a', 'once', 'growing']);

    releaseSlow();
    for (const arn of [started[0]!, started[2]!])
      expect((await waitForStatus(sfn, arn)).status).toBe('SUCCEEDED');
    slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));
  });

  it('runs Map iterations and records them before the Map exits', async () => {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn('map'), input: '{"items":[1,2,3]}' }),
    );
    const done = await waitForStatus(sfn, executionArn!);
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: '[2,4,6]' });
    const types = (await fullHistory(sfn, executionArn!)).map((event) => event.type!);
    expect(types.slice(0, 3)).toEqual(['ExecutionStarted', 'MapStateEntered', 'MapStateStarted']);
    expect(types.slice(-3)).toEqual(['MapStateSucceeded', 'MapStateExited', 'ExecutionSucceeded']);
    expect(types.filter((type) => type === 'MapIterationSucceeded')).toHaveLength(3);
    expect(types.filter((type) => type === 'LambdaFunctionSucceeded')).toHaveLength(3);
  });

  it('fails the execution with States.DataLimitExceeded when a state’s output is over 256 KiB, past any Catch', async () => {
    const pad = 'p'.repeat(100 * 1024);
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machineArn('data-limit'),
        input: JSON.stringify({ pad }),
      }),
    );
    const done = await waitForStatus(sfn, executionArn!);
    expect(done).toMatchObject({
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
      cause:
        "The state/task 'Grow' returned a result with a size exceeding the maximum number of bytes service limit.",
    });
    expect(done.output).toBeUndefined();
    const history = await fullHistory(sfn, executionArn!);
    expect(history.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'ExecutionFailed',
    ]);
    expect(history.at(-1)!.executionFailedEventDetails).toEqual({ error: done.error, cause: done.cause });
  });

  it('fails on a task result over 256 KiB without retrying it, and on any other state’s output', async () => {
    const flood = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn('data-limit-result') }),
    );
    const flooded = await waitForStatus(sfn, flood.executionArn!);
    const cause = `The state/task '${lambdaArn('f')}' returned a result with a size exceeding the maximum number of bytes service limit.`;
    expect(flooded).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded', cause });
    expect((await fullHistory(sfn, flood.executionArn!)).slice(-2)).toMatchObject([
      {
        type: 'LambdaFunctionFailed',
        lambdaFunctionFailedEventDetails: { error: 'States.DataLimitExceeded', cause },
      },
      { type: 'ExecutionFailed', executionFailedEventDetails: { error: 'States.DataLimitExceeded', cause } },
    ]);
    expect(calls.filter((call) => call.executionArn === flood.executionArn)).toHaveLength(1);

    const pass = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machineArn('data-limit-pass'),
        input: JSON.stringify({ pad: 'p'.repeat(100 * 1024) }),
      }),
    );
    expect(await waitForStatus(sfn, pass.executionArn!)).toMatchObject({
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
      cause:
        "The state/task 'Triple' returned a result with a size exceeding the maximum number of bytes service limit.",
    });
    expect((await fullHistory(sfn, pass.executionArn!)).map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'ExecutionFailed',
    ]);

    // A Task whose input after Parameters is over the quota is never called.
    const echo = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machineArn('data-limit-input'),
        input: JSON.stringify({ pad: 'p'.repeat(100 * 1024) }),
      }),
    );
    expect(await waitForStatus(sfn, echo.executionArn!)).toMatchObject({
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
      cause:
        "The state/task 'Echo' has an input with a size exceeding the maximum number of bytes service limit.",
    });
    expect(calls.filter((call) => call.executionArn === echo.executionArn)).toEqual([]);
  });

  it('times out a Task (States.Timeout) and a whole execution (TIMED_OUT)', async () => {
    const [task, machine] = await Promise.all(
      ['task-timeout', 'machine-timeout'].map((name) =>
        sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn(name), name: 'timeout-1' })),
      ),
    );
    const [taskDone, machineDone] = await Promise.all([
      waitForStatus(sfn, task!.executionArn!),
      waitForStatus(sfn, machine!.executionArn!),
    ]);
    expect(taskDone).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    expect((await fullHistory(sfn, task!.executionArn!)).map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionTimedOut',
      'ExecutionFailed',
    ]);
    expect(machineDone).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    const machineHistory = await fullHistory(sfn, machine!.executionArn!);
    expect(machineHistory.at(-1)).toMatchObject({
      type: 'ExecutionTimedOut',
      executionTimedOutEventDetails: { error: 'States.Timeout' },
    });
  });

  it('has on disk whatever it has answered: a status, or events, survive a crash once reported', async () => {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn('map'), input: '{"items":[1,2,3,4,5,6]}' }),
    );
    // What a new process would find, read while this one runs, as a crash would leave it.
    const onDisk = async () => (await readExecutions(dataDir)).records.get(executionArn!)!;
    let status: string | undefined;
    while (status !== 'SUCCEEDED') {
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      expect((await onDisk()).status).toBe(described.status);
      const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
      expect((await onDisk()).events.length).toBeGreaterThanOrEqual(history.events!.length);
      status = described.status;
      expect(status === 'RUNNING' || status === 'SUCCEEDED').toBe(true);
    }
  });

  it('keeps executions and history across a restart, and re-runs those that were running', async () => {
    const finishedArn = `arn:aws:states:us-east-1:${account}:execution:pipeline:req-1`;
    const before = await sfn.send(new DescribeExecutionCommand({ executionArn: finishedArn }));
    const historyBefore = await fullHistory(sfn, finishedArn);
    const machineBefore = await sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: machineArn('pipeline') }),
    );
    expect(JSON.parse(machineBefore.definition!)).toEqual(pipeline);

    // An execution whose task is still running when the process goes away.
    const crashed = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn('slow'), name: 'crashed', input: '{"n":7}' }),
    );
    await eventually(async () => {
      const events = await fullHistory(sfn, crashed.executionArn!);
      return events.some((event) => event.type === 'LambdaFunctionStarted') ? true : undefined;
    });
    await server.close();

    releaseSlow(); // the task can finish now, in the new process
    server = await start();
    sfn = createSfnClient(loadConfig({ SFN_ENDPOINT: server.url }));

    const after = await sfn.send(new DescribeExecutionCommand({ executionArn: finishedArn }));
    expect({ ...after, $metadata: undefined }).toEqual({ ...before, $metadata: undefined });
    expect(await fullHistory(sfn, finishedArn)).toEqual(historyBefore);
    const machineAfter = await sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: machineArn('pipeline') }),
    );
    expect(machineAfter.creationDate).toEqual(machineBefore.creationDate);

    const rerun = await waitForStatus(sfn, crashed.executionArn!);
    expect(rerun).toMatchObject({
      status: 'SUCCEEDED',
      name: 'crashed',
      input: '{"n":7}',
      output: '{"waited":true}',
    });
    expect(rerun.startDate).toEqual(crashed.startDate);
    const events = await fullHistory(sfn, crashed.executionArn!);
    expect(events.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events[0]!.timestamp).toEqual(crashed.startDate);
    expect(calls.filter((call) => call.executionArn === crashed.executionArn)).toHaveLength(2);
  });
});

describe('Step Functions emulator whose data folder cannot be written', () => {
  it('refuses to start an execution it could not keep, and never runs it', async () => {
    const dataDir = await tempDir();
    const calls: TaskCall[] = [];
    const server = await startStepFunctionsServer({
      dataDir,
      stateMachines: [
        {
          name: 'one-task',
          definition: {
            StartAt: 'Work',
            States: { Work: { Type: 'Task', Resource: lambdaArn('w'), End: true } },
          },
        },
      ],
      taskHandler: async (call) => {
        calls.push(call);
        return {};
      },
    });
    // Where the executions are written is taken by a folder.
    const journal = join(dataDir, 'executions', 'journal.jsonl');
    await rm(journal);
    await mkdir(journal);
    const sfn = createSfnClient(loadConfig({ SFN_ENDPOINT: server.url }));
    try {
      const started = sfn.send(
        new StartExecutionCommand({ stateMachineArn: machineArn('one-task'), name: 'unkept' }),
      );
      await expect(started).rejects.toMatchObject({ name: 'InternalFailure' });
      await expect(
        sfn.send(
          new DescribeExecutionCommand({
            executionArn: `arn:aws:states:us-east-1:${account}:execution:one-task:unkept`,
          }),
        ),
      ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
      expect(calls).toEqual([]);
    } finally {
      sfn.destroy();
      await server.close();
    }
  });
});

describe("Step Functions emulator running core's pipeline definition", () => {
  it('runs it end to end, a failed describer caught and recorded while the others carry on', async () => {
    const inputs = new Map<string, unknown>();
    const server = await startStepFunctionsServer({
      dataDir: await tempDir(),
      stateMachines: [
        { name: 'mc-vision-pipeline', definition: buildPipelineDefinition(placeholderResources) },
      ],
      taskHandler: async ({ stateName, input }) => {
        inputs.set(stateName, input);
        const task = (input as { task?: string }).task;
        if (task === 'classify')
          return { model: 'darknet-tiny', labels: [{ label: 'pelican', score: 0.99 }] };
        if (task === 'describe-bedrock') throw namedError('GuardrailIntervened', 'bedrock: blocked');
        if (task === 'describe-azure') return { caption: 'A photo of a pelican.' };
        if (task === 'build-record') {
          return {
            item: { requestId: { S: 'r-1' } },
            notification: { subject: 's', message: 'm' },
            record: { ok: 1 },
          };
        }
        return {}; // DynamoDB putItem, SNS publish
      },
    });
    try {
      const sfn = createSfnClient(loadConfig({ SFN_ENDPOINT: server.url }));
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: machineArn('mc-vision-pipeline'),
          name: 'r-1',
          input: JSON.stringify({ requestId: 'r-1', imageKey: 'images/pelican.jpeg', imageETag: '"e1"' }),
        }),
      );
      expect(await waitForStatus(sfn, executionArn!)).toMatchObject({
        status: 'SUCCEEDED',
        output: '{"ok":1}',
      });
      const outcomes = (inputs.get('BuildRecord') as { outcomes: Record<string, { Error?: string }> })
        .outcomes;
      expect(outcomes.bedrock?.Error).toBe('GuardrailIntervened');
      expect(inputs.get('DescribeWithAzure')).toMatchObject({ hints: [{ label: 'pelican', score: 0.99 }] });
      // The put is conditional (core's pipelineSaveCondition), for this execution's image.
      expect(inputs.get('SaveResult')).toEqual({
        TableName: 'mc-vision-results',
        Item: { requestId: { S: 'r-1' } },
        ...pipelineSaveCondition,
        ExpressionAttributeValues: {
          ...pipelineSaveCondition.ExpressionAttributeValues,
          ':imageKey': { S: 'images/pelican.jpeg' },
        },
      });
    } finally {
      await server.close();
    }
  });
});

describe('the execution observer', () => {
  it('is told of each start once and of each close with its status, what AWS/States counts', async () => {
    const events: ExecutionEvent[] = [];
    const server = await startStepFunctionsServer({
      dataDir: await tempDir(),
      stateMachines: [
        {
          name: 'observed',
          definition: {
            StartAt: 'Work',
            States: { Work: { Type: 'Task', Resource: lambdaArn('worker'), End: true } },
          },
        },
      ],
      taskHandler: async ({ input }) => {
        if ((input as { fail?: boolean }).fail) throw namedError('Boom', 'failed on purpose');
        return { ok: true };
      },
      onExecution: (event) => events.push(event),
    });
    const sfn = createSfnClient(loadConfig({ SFN_ENDPOINT: server.url }));
    try {
      const start = async (name: string, input: object) =>
        (
          await sfn.send(
            new StartExecutionCommand({
              stateMachineArn: machineArn('observed'),
              name,
              input: JSON.stringify(input),
            }),
          )
        ).executionArn!;
      const good = await start('good', {});
      const bad = await start('bad', { fail: true });
      await waitForStatus(sfn, good);
      await waitForStatus(sfn, bad);
      const summary = events.map((event) => [
        event.type,
        event.executionArn.split(':').at(-1),
        event.type === 'closed' ? event.status : '',
        event.type === 'closed' ? event.stopDate >= event.startDate : true,
      ]);
      expect(summary.filter(([type]) => type === 'started')).toEqual([
        ['started', 'good', '', true],
        ['started', 'bad', '', true],
      ]);
      expect(summary.filter(([type]) => type === 'closed').sort()).toEqual([
        ['closed', 'bad', 'FAILED', true],
        ['closed', 'good', 'SUCCEEDED', true],
      ]);
      // A refused start is no start.
      await expect(start('good', {})).rejects.toBeInstanceOf(ExecutionAlreadyExists);
      expect(events.filter((event) => event.type === 'started')).toHaveLength(2);
    } finally {
      sfn.destroy();
      await server.close();
    }
  });
});
