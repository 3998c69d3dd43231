import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { awsJsonActionFor, decodePageToken, encodePageToken, toEpochSeconds } from '../aws-json/index.ts';
import type { ExecutionRun, RunMode } from './execution-run.ts';
import type { MachineEntry } from './machines.ts';
import type { MapRunHost } from './map-run.ts';
import { isValidExecutionName, sfnError } from './protocol.ts';
import { maxPayloadBytes } from './quotas.ts';
import { arn, defaultPageSize, maxResults, nextToken } from './action-inputs.ts';
import { listMapRunExecutions } from './map-run-actions.ts';
import {
  executionStatuses,
  startedExecution,
  type ExecutionRecord,
  type ExecutionStore,
  type StoredEvent,
} from './store.ts';

// The Step Functions actions, each a function over the server's shared state. A new action is one more entry
// in `executionActions` (or, for map runs and redrives, in map-run-actions.ts).

export interface StepFunctionsContext extends MapRunHost {
  /** By ARN, the machines Distributed Maps run their items in included. */
  machines: Map<string, MachineEntry>;
  store: ExecutionStore;
  /** Executions running in this process, by ARN. */
  runs: Map<string, ExecutionRun>;
  /** Runs a RUNNING execution (just started, left running by the previous process, or redriven). */
  launch(machine: MachineEntry, record: ExecutionRecord, mode?: RunMode): void;
  /** A new execution was started (and persisted). */
  started(record: ExecutionRecord): void;
  /** A start date (epoch ms) later than every execution's, so newest-first lists are exact. */
  nextStartDate(): number;
}

const action = awsJsonActionFor<StepFunctionsContext>();

export function machineByArn(context: StepFunctionsContext, machineArn: string): MachineEntry {
  if (!/^arn:aws[\w-]*:states:[\w-]+:\d{12}:stateMachine:[^:]+$/.test(machineArn)) {
    throw sfnError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${machineArn}'`);
  }
  const machine = context.machines.get(machineArn);
  if (!machine) throw sfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${machineArn}'`);
  return machine;
}

export function executionByArn(context: StepFunctionsContext, executionArn: string): ExecutionRecord {
  if (!/^arn:aws[\w-]*:states:[\w-]+:\d{12}:execution:[^:]+:[^:]+$/.test(executionArn)) {
    throw sfnError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${executionArn}'`);
  }
  const record = context.store.get(executionArn);
  if (!record) throw sfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
  return record;
}

/**
 * `answer`, taken from the records as they are now, once that state is on disk: a status or an event a caller
 * has been told of is never lost to a crash (the store writes a changed record shortly after the change).
 */
export async function reportedOnceDurable<T>(
  context: StepFunctionsContext,
  records: readonly ExecutionRecord[],
  answer: T,
): Promise<T> {
  await Promise.all(records.map((record) => context.store.durable(record.executionArn)));
  return answer;
}

/** The page token's fields, checked against the request it must have been issued for. */
export function pageToken(token: string, expected: Record<string, unknown>, offsetKey: string): number {
  const value = decodePageToken(token);
  const matches =
    value !== undefined &&
    Object.entries(expected).every(([key, wanted]) => value[key] === wanted) &&
    typeof value[offsetKey] === 'number';
  if (!matches) throw sfnError('InvalidToken', `Invalid Token: '${token}'`);
  return value[offsetKey] as number;
}

const startExecution = action(
  z.looseObject({
    stateMachineArn: arn,
    name: z.string().optional(),
    input: z.string().optional(),
    traceHeader: z.string().max(256).optional(),
  }),
  async (context, request) => {
    const machine = machineByArn(context, request.stateMachineArn);
    if (machine.mapChild) {
      throw sfnError(
        'ValidationException',
        `${machine.arn} is a Distributed Map state: start its state machine`,
      );
    }
    const input = request.input ?? '{}';
    if (Buffer.byteLength(input) > maxPayloadBytes) {
      throw sfnError(
        'InvalidExecutionInput',
        'Invalid State Machine Execution Input: input is larger than 256 KB',
      );
    }
    try {
      JSON.parse(input);
    } catch (error) {
      throw sfnError(
        'InvalidExecutionInput',
        `Invalid State Machine Execution Input: '${(error as Error).message}'`,
      );
    }
    const name = request.name ?? randomUUID();
    if (!isValidExecutionName(name)) throw sfnError('InvalidName', `Invalid Name: '${name}'`);
    const executionArn = `arn:aws:states:${context.region}:${context.accountId}:execution:${machine.name}:${name}`;

    // Like AWS: the same name and input as a RUNNING execution returns that execution; a closed execution or a
    // different input is a conflict.
    const existing = context.store.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn, startDate: toEpochSeconds(existing.startDate) };
      }
      throw sfnError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }

    const startDate = context.nextStartDate();
    const record = startedExecution(machine, { executionArn, name, input, startDate });
    await context.store.add(record);
    context.started(record);
    context.launch(machine, record);
    return { executionArn, startDate: toEpochSeconds(startDate) };
  },
);

const describeExecution = action(z.looseObject({ executionArn: arn }), async (context, request) => {
  const record = executionByArn(context, request.executionArn);
  return reportedOnceDurable(context, [record], {
    ...executionListItem(record),
    input: record.input,
    inputDetails: { included: true },
    ...(record.output === undefined ? {} : { output: record.output, outputDetails: { included: true } }),
    ...(record.error === undefined ? {} : { error: record.error }),
    ...(record.cause === undefined ? {} : { cause: record.cause }),
    ...(record.mapRunArn === undefined ? {} : { mapRunArn: record.mapRunArn }),
    redriveCount: record.redriveCount ?? 0,
    ...(record.redriveDate === undefined ? {} : { redriveDate: toEpochSeconds(record.redriveDate) }),
    ...redriveStatus(record),
  });
});

const getExecutionHistory = action(
  z.looseObject({
    executionArn: arn,
    maxResults,
    nextToken,
    reverseOrder: z.boolean().optional(),
    includeExecutionData: z.boolean().optional(),
  }),
  async (context, request) => {
    const record = executionByArn(context, request.executionArn);
    const reverse = request.reverseOrder ?? false;
    const { events } = record;
    const size = request.maxResults || defaultPageSize;
    // A page token names a position in the history that events appended meanwhile do not move: forwards, the
    // next event's index; newest first, the index the next page ends before (the oldest event returned).
    const from = request.nextToken
      ? pageToken(request.nextToken, { arn: record.executionArn, reverse }, 'offset')
      : reverse
        ? events.length
        : 0;
    const [start, end] = reverse ? [Math.max(0, from - size), from] : [from, from + size];
    // Only the page is copied and serialized, not the whole history (a poll asks for a few newest events).
    const page = reverse ? events.slice(start, end).reverse() : events.slice(start, end);
    const more = reverse ? start > 0 : end < events.length;
    const includeData = request.includeExecutionData ?? true;
    return reportedOnceDurable(context, [record], {
      events: page.map((event) => wireEvent(event, includeData)),
      ...(more
        ? { nextToken: encodePageToken({ arn: record.executionArn, reverse, offset: reverse ? start : end }) }
        : {}),
    });
  },
);

export const listExecutionsInput = z.looseObject({
  stateMachineArn: arn.optional(),
  mapRunArn: arn.optional(),
  statusFilter: z.enum([...executionStatuses, 'PENDING_REDRIVE']).optional(),
  redriveFilter: z.enum(['REDRIVEN', 'NOT_REDRIVEN']).optional(),
  maxResults,
  nextToken,
});

const listExecutions = action(listExecutionsInput, async (context, request) => {
  if (request.mapRunArn && request.stateMachineArn) {
    throw sfnError('ValidationException', 'Provide either a stateMachineArn or a mapRunArn, not both');
  }
  if (request.mapRunArn) return listMapRunExecutions(context, request);
  if (!request.stateMachineArn) {
    throw sfnError('ValidationException', 'Must provide a StateMachine ARN or MapRun ARN');
  }
  const machine = machineByArn(context, request.stateMachineArn);
  if (request.statusFilter === 'PENDING_REDRIVE') {
    throw sfnError('ValidationException', 'PENDING_REDRIVE status filter requires a mapRunArn');
  }
  const status = request.statusFilter;
  const after = request.nextToken
    ? pageToken(request.nextToken, { machine: machine.arn, status: status ?? null }, 'after')
    : undefined;
  const size = request.maxResults || defaultPageSize;
  const matching = context.store
    .all()
    .filter((record) => record.stateMachineArn === machine.arn && (!status || record.status === status))
    .filter((record) => matchesRedriveFilter(record, request.redriveFilter))
    .filter((record) => after === undefined || record.startDate < after)
    .sort((a, b) => b.startDate - a.startDate);
  const page = matching.slice(0, size);
  return reportedOnceDurable(context, page, {
    executions: page.map(executionListItem),
    ...(matching.length > size
      ? {
          nextToken: encodePageToken({
            machine: machine.arn,
            status: status ?? null,
            after: page.at(-1)!.startDate,
          }),
        }
      : {}),
  });
});

const stopExecution = action(
  z.looseObject({
    executionArn: arn,
    error: z.string().max(256).optional(),
    cause: z.string().max(32768).optional(),
  }),
  async (context, request) => {
    const record = executionByArn(context, request.executionArn);
    if (record.status === 'RUNNING') {
      const run = context.runs.get(record.executionArn);
      if (run) {
        run.stop(request.error, request.cause);
        await run.done;
      }
    }
    return { stopDate: toEpochSeconds(record.stopDate ?? Date.now()) };
  },
);

const describeStateMachine = action(z.looseObject({ stateMachineArn: arn }), async (context, request) => {
  const machine = machineByArn(context, request.stateMachineArn);
  return {
    stateMachineArn: machine.arn,
    name: machine.name,
    status: 'ACTIVE',
    definition: machine.definitionText,
    roleArn: machine.roleArn,
    type: 'STANDARD',
    creationDate: toEpochSeconds(machine.creationDate),
    loggingConfiguration: { level: 'OFF', includeExecutionData: false },
    tracingConfiguration: { enabled: false },
  };
});

export const executionActions = {
  StartExecution: startExecution,
  DescribeExecution: describeExecution,
  GetExecutionHistory: getExecutionHistory,
  ListExecutions: listExecutions,
  StopExecution: stopExecution,
  DescribeStateMachine: describeStateMachine,
};

/** What ListExecutions says of an execution (DescribeExecution says more). */
export function executionListItem(record: ExecutionRecord): Record<string, unknown> {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: toEpochSeconds(record.startDate),
    ...(record.stopDate === undefined ? {} : { stopDate: toEpochSeconds(record.stopDate) }),
    ...(record.redriveCount ? { redriveCount: record.redriveCount } : {}),
    ...(record.redriveDate === undefined ? {} : { redriveDate: toEpochSeconds(record.redriveDate) }),
  };
}

export function matchesRedriveFilter(
  record: ExecutionRecord,
  filter: 'REDRIVEN' | 'NOT_REDRIVEN' | undefined,
): boolean {
  if (!filter) return true;
  return (filter === 'REDRIVEN') === (record.redriveCount ?? 0) > 0;
}

/** How long after it stopped an execution can still be redriven (Step Functions: 14 days). */
export const redrivablePeriodMs = 14 * 86_400_000;

/** Why an execution can or cannot be redriven, as DescribeExecution says it. */
export function redriveStatus(record: ExecutionRecord): {
  redriveStatus: string;
  redriveStatusReason?: string;
} {
  if (record.status === 'RUNNING' || record.status === 'SUCCEEDED') {
    return {
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: `Execution is ${record.status} and cannot be redriven`,
    };
  }
  if (record.mapRunArn) return { redriveStatus: 'REDRIVABLE_BY_MAP_RUN' };
  if (Date.now() - (record.stopDate ?? 0) > redrivablePeriodMs) {
    return { redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: 'Execution redrivable period exceeded' };
  }
  return { redriveStatus: 'REDRIVABLE' };
}

/** The data fields an event's details drop when the caller does not ask for execution data. */
const dataFields = new Set(['input', 'inputDetails', 'output', 'outputDetails', 'parameters']);

/**
 * A stored event as the protocol sends it: epoch seconds; without input/output when data is not included.
 * Built field by field (no `delete`, which would leave V8 dictionary-mode objects slow to serialize).
 */
function wireEvent(event: StoredEvent, includeData: boolean): Record<string, unknown> {
  const wire: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (key === 'timestamp') wire[key] = toEpochSeconds(event.timestamp);
    else if (includeData || !key.endsWith('EventDetails') || typeof value !== 'object' || value === null) {
      wire[key] = value;
    } else {
      const details: Record<string, unknown> = {};
      for (const [field, fieldValue] of Object.entries(value)) {
        if (!dataFields.has(field)) details[field] = fieldValue;
      }
      wire[key] = details;
    }
  }
  return wire;
}
