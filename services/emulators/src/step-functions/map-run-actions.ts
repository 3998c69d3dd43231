import { z } from 'zod';
import { awsJsonActionFor, encodePageToken, toEpochSeconds } from '../aws-json/index.ts';
import { arn, defaultPageSize, maxResults, nextToken } from './action-inputs.ts';
import {
  executionByArn,
  executionListItem,
  machineByArn,
  matchesRedriveFilter,
  pageToken,
  redriveStatus,
  type listExecutionsInput,
  type StepFunctionsContext,
} from './actions.ts';
import { redriveRecord } from './map-run.ts';
import type { MapRunRecord } from './map-run-store.ts';
import { sfnError } from './protocol.ts';
import type { ExecutionRecord } from './store.ts';

// The actions about Distributed Maps and redrives: ListMapRuns and DescribeMapRun for an execution's map runs,
// ListExecutions by mapRunArn for a map run's children, RedriveExecution, and the state machine look-ups other
// clients make (ListStateMachines, DescribeStateMachineForExecution).

const action = awsJsonActionFor<StepFunctionsContext>();

function mapRunByArn(context: StepFunctionsContext, mapRunArn: string): MapRunRecord {
  if (!/^arn:aws[\w-]*:states:[\w-]+:\d{12}:mapRun:[^:]+:[^:]+$/.test(mapRunArn)) {
    throw sfnError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${mapRunArn}'`);
  }
  const run = context.mapRuns.get(mapRunArn);
  if (!run) throw sfnError('ResourceNotFound', `Resource not found: '${mapRunArn}'`);
  return run;
}

/** The map run's children, one per item, found by their names (map-run.ts names them). */
function childrenOf(context: StepFunctionsContext, run: MapRunRecord): ExecutionRecord[] {
  return context.store.all().filter((record) => record.mapRunArn === run.mapRunArn);
}

/** Items and child executions by status, as DescribeMapRun counts them. */
function counts(context: StepFunctionsContext, run: MapRunRecord) {
  const children = childrenOf(context, run);
  const by = (status: string) => children.filter((child) => child.status === status).length;
  const total = run.itemCount ?? 0;
  const executions = {
    pending: 0,
    running: by('RUNNING'),
    succeeded: by('SUCCEEDED'),
    failed: by('FAILED'),
    timedOut: by('TIMED_OUT'),
    aborted: by('ABORTED'),
    total: children.length,
    resultsWritten: run.resultsWritten,
    failuresNotRedrivable: 0,
    pendingRedrive: 0,
  };
  return {
    itemCounts: { ...executions, pending: Math.max(0, total - children.length), total },
    executionCounts: executions,
  };
}

const listMapRuns = action(
  z.looseObject({ executionArn: arn, maxResults, nextToken }),
  async (context, request) => {
    const execution = executionByArn(context, request.executionArn);
    const offset = request.nextToken
      ? pageToken(request.nextToken, { execution: execution.executionArn }, 'offset')
      : 0;
    const size = request.maxResults || defaultPageSize;
    const runs = context.mapRuns.ofExecution(execution.executionArn);
    return {
      mapRuns: runs.slice(offset, offset + size).map((run) => ({
        executionArn: run.executionArn,
        mapRunArn: run.mapRunArn,
        stateMachineArn: run.childMachineArn,
        startDate: toEpochSeconds(run.startDate),
        ...(run.stopDate === undefined ? {} : { stopDate: toEpochSeconds(run.stopDate) }),
      })),
      ...(offset + size < runs.length
        ? { nextToken: encodePageToken({ execution: execution.executionArn, offset: offset + size }) }
        : {}),
    };
  },
);

const describeMapRun = action(z.looseObject({ mapRunArn: arn }), async (context, request) => {
  const run = mapRunByArn(context, request.mapRunArn);
  return {
    mapRunArn: run.mapRunArn,
    executionArn: run.executionArn,
    status: run.status,
    startDate: toEpochSeconds(run.startDate),
    ...(run.stopDate === undefined ? {} : { stopDate: toEpochSeconds(run.stopDate) }),
    maxConcurrency: run.maxConcurrency,
    toleratedFailurePercentage: run.toleratedFailurePercentage,
    toleratedFailureCount: run.toleratedFailureCount,
    ...counts(context, run),
    redriveCount: run.redriveCount,
    ...(run.redriveDate === undefined ? {} : { redriveDate: toEpochSeconds(run.redriveDate) }),
  };
});

/** ListExecutions with a mapRunArn: the map run's children, newest first. */
export function listMapRunExecutions(
  context: StepFunctionsContext,
  request: z.output<typeof listExecutionsInput>,
): Record<string, unknown> {
  const run = mapRunByArn(context, request.mapRunArn!);
  const status = request.statusFilter;
  const offset = request.nextToken
    ? pageToken(request.nextToken, { mapRun: run.mapRunArn, status: status ?? null }, 'offset')
    : 0;
  const size = request.maxResults || defaultPageSize;
  const matching = childrenOf(context, run)
    .filter((record) => (status === 'PENDING_REDRIVE' ? false : !status || record.status === status))
    .filter((record) => matchesRedriveFilter(record, request.redriveFilter))
    .sort((a, b) => b.startDate - a.startDate);
  return {
    executions: matching
      .slice(offset, offset + size)
      .map((record) => ({ ...executionListItem(record), mapRunArn: run.mapRunArn })),
    ...(offset + size < matching.length
      ? {
          nextToken: encodePageToken({
            mapRun: run.mapRunArn,
            status: status ?? null,
            offset: offset + size,
          }),
        }
      : {}),
  };
}

const redriveExecution = action(
  z.looseObject({ executionArn: arn, clientToken: z.string().min(1).max(256).optional() }),
  async (context, request) => {
    const record = executionByArn(context, request.executionArn);
    const { redriveStatus: state, redriveStatusReason } = redriveStatus(record);
    if (state === 'REDRIVABLE_BY_MAP_RUN') {
      throw sfnError(
        'ExecutionNotRedrivable',
        `Execution ${record.executionArn} was started by a Map Run: redrive its parent execution`,
      );
    }
    if (state !== 'REDRIVABLE')
      throw sfnError('ExecutionNotRedrivable', redriveStatusReason ?? 'Execution cannot be redriven');
    const machine = machineByArn(context, record.stateMachineArn);
    redriveRecord(record);
    await context.store.save(record);
    context.launch(machine, record, 'redrive');
    return { redriveDate: toEpochSeconds(record.redriveDate!) };
  },
);

const listStateMachines = action(z.looseObject({ maxResults, nextToken }), async (context, request) => {
  const machines = [...context.machines.values()]
    .filter((machine) => !machine.mapChild)
    .sort((a, b) => a.name.localeCompare(b.name));
  const offset = request.nextToken ? pageToken(request.nextToken, { list: 'stateMachines' }, 'offset') : 0;
  const size = request.maxResults || defaultPageSize;
  return {
    stateMachines: machines.slice(offset, offset + size).map((machine) => ({
      stateMachineArn: machine.arn,
      name: machine.name,
      type: 'STANDARD',
      creationDate: toEpochSeconds(machine.creationDate),
    })),
    ...(offset + size < machines.length
      ? { nextToken: encodePageToken({ list: 'stateMachines', offset: offset + size }) }
      : {}),
  };
});

const describeStateMachineForExecution = action(
  z.looseObject({ executionArn: arn, includedData: z.enum(['ALL_DATA', 'METADATA_ONLY']).optional() }),
  async (context, request) => {
    const record = executionByArn(context, request.executionArn);
    const machine = context.machines.get(record.stateMachineArn);
    if (!machine)
      throw sfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${record.executionArn}'`);
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      definition: machine.definitionText,
      roleArn: machine.roleArn,
      updateDate: toEpochSeconds(machine.creationDate),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
      ...(record.mapRunArn && machine.mapChild
        ? { mapRunArn: record.mapRunArn, label: machine.mapChild.label }
        : {}),
    };
  },
);

export const mapRunActions = {
  ListMapRuns: listMapRuns,
  DescribeMapRun: describeMapRun,
  RedriveExecution: redriveExecution,
  ListStateMachines: listStateMachines,
  DescribeStateMachineForExecution: describeStateMachineForExecution,
};
