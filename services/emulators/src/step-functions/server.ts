import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { z } from 'zod';
import {
  parseJson,
  readBody,
  sendJson,
  startHttpServer,
  stopHttpServer,
  type EmulatorServer,
  type ListenOptions,
} from '../http.ts';
import { analyzeDefinition, type Definition } from './definition.ts';
import { ExecutionRun, type MachineRuntime, type TaskHandler } from './execution-run.ts';
import {
  actionSchemas,
  contentType,
  decodeToken,
  encodeToken,
  isValidExecutionName,
  sfnError,
  toEpochSeconds,
  type Action,
} from './protocol.ts';
import { ExecutionStore, type ExecutionRecord, type StoredEvent } from './store.ts';

// A Step Functions endpoint for the laptop: the real JSON 1.0 protocol (StartExecution, DescribeExecution,
// GetExecutionHistory, ListExecutions, StopExecution, DescribeStateMachine) in front of aws-local-stepfunctions,
// with every Task delegated to `taskHandler`, executions and their history kept as JSON under `dataDir`, and
// executions that were RUNNING when the process stopped run again from the start when it comes back.

export interface StateMachineSpec {
  name: string;
  /** Amazon States Language (JSONPath), as an object or as the JSON text. */
  definition: object | string;
  roleArn?: string;
}

export interface StepFunctionsServerOptions extends ListenOptions {
  /** Where executions are kept (created if missing). */
  dataDir: string;
  /** Default us-east-1. */
  region?: string;
  /** Default 000000000000. */
  accountId?: string;
  stateMachines: StateMachineSpec[];
  taskHandler: TaskHandler;
  /** Milliseconds to wait between retries, by state name (aws-local-stepfunctions' override; for fast tests). */
  retryIntervalOverrides?: Record<string, number | number[]>;
}

const optionsSchema = z.object({
  dataDir: z.string().min(1),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/)
    .default('us-east-1'),
  accountId: z
    .string()
    .regex(/^\d{12}$/)
    .default('000000000000'),
  stateMachines: z
    .array(z.object({ name: z.string().refine(isValidExecutionName, 'invalid state machine name') }).loose())
    .min(1),
});

const maxInputBytes = 256 * 1024;
const defaultPageSize = 100;

interface MachineEntry extends MachineRuntime {
  definitionText: string;
  creationDate: number;
}

export async function startStepFunctionsServer(options: StepFunctionsServerOptions): Promise<EmulatorServer> {
  const { dataDir, region, accountId } = optionsSchema.parse(options);
  await mkdir(dataDir, { recursive: true });
  const machines = await loadMachines(options.stateMachines, dataDir, region, accountId);
  const store = await ExecutionStore.open(dataDir);
  const runs = new Map<string, ExecutionRun>();
  let lastStartDate = Math.max(0, ...store.all().map((record) => record.startDate));
  let closing = false;

  function launch(machine: MachineEntry, record: ExecutionRecord): void {
    if (closing) return; // stays RUNNING on disk: the next start runs it
    const run = new ExecutionRun({
      machine,
      record,
      store,
      taskHandler: options.taskHandler,
      ...(options.retryIntervalOverrides ? { retryIntervalOverrides: options.retryIntervalOverrides } : {}),
    });
    runs.set(record.executionArn, run);
    void run.done.then(() => runs.delete(record.executionArn));
    run.start();
  }

  function machineByArn(arn: string): MachineEntry {
    if (!/^arn:aws[\w-]*:states:[\w-]+:\d{12}:stateMachine:[^:]+$/.test(arn)) {
      throw sfnError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${arn}'`);
    }
    const machine = machines.get(arn);
    if (!machine) throw sfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  function executionByArn(arn: string): ExecutionRecord {
    if (!/^arn:aws[\w-]*:states:[\w-]+:\d{12}:execution:[^:]+:[^:]+$/.test(arn)) {
      throw sfnError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${arn}'`);
    }
    const record = store.get(arn);
    if (!record) throw sfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return record;
  }

  const actions: { [A in Action]: (input: z.infer<(typeof actionSchemas)[A]>) => Promise<unknown> } = {
    async StartExecution(request) {
      const machine = machineByArn(request.stateMachineArn);
      const input = request.input ?? '{}';
      if (Buffer.byteLength(input) > maxInputBytes) {
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
      const executionArn = `arn:aws:states:${region}:${accountId}:execution:${machine.name}:${name}`;

      // Like AWS: the same name and input as a RUNNING execution returns that execution; a closed execution or a
      // different input is a conflict.
      const existing = store.get(executionArn);
      if (existing) {
        if (existing.status === 'RUNNING' && existing.input === input) {
          return { executionArn, startDate: toEpochSeconds(existing.startDate) };
        }
        throw sfnError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
      }

      // Unique, increasing start dates keep ListExecutions' newest-first order exact.
      const startDate = Math.max(Date.now(), lastStartDate + 0.001);
      lastStartDate = startDate;
      const record: ExecutionRecord = {
        executionArn,
        stateMachineArn: machine.arn,
        stateMachineName: machine.name,
        name,
        status: 'RUNNING',
        input,
        startDate,
        events: [
          {
            id: 1,
            previousEventId: 0,
            timestamp: startDate,
            type: 'ExecutionStarted',
            executionStartedEventDetails: {
              input,
              inputDetails: { truncated: false },
              roleArn: machine.roleArn,
            },
          },
        ],
      };
      await store.add(record);
      launch(machine, record);
      return { executionArn, startDate: toEpochSeconds(startDate) };
    },

    async DescribeExecution({ executionArn }) {
      const record = executionByArn(executionArn);
      return {
        executionArn: record.executionArn,
        stateMachineArn: record.stateMachineArn,
        name: record.name,
        status: record.status,
        startDate: toEpochSeconds(record.startDate),
        ...(record.stopDate === undefined ? {} : { stopDate: toEpochSeconds(record.stopDate) }),
        input: record.input,
        inputDetails: { included: true },
        ...(record.output === undefined ? {} : { output: record.output, outputDetails: { included: true } }),
        ...(record.error === undefined ? {} : { error: record.error }),
        ...(record.cause === undefined ? {} : { cause: record.cause }),
        redriveCount: 0,
        redriveStatus: 'NOT_REDRIVABLE',
      };
    },

    async GetExecutionHistory(request) {
      const record = executionByArn(request.executionArn);
      const reverse = request.reverseOrder ?? false;
      let offset = 0;
      if (request.nextToken) {
        const token = decodeToken(request.nextToken);
        if (
          token.arn !== record.executionArn ||
          token.reverse !== reverse ||
          typeof token.offset !== 'number'
        ) {
          throw sfnError('InvalidToken', `Invalid Token: '${request.nextToken}'`);
        }
        offset = token.offset;
      }
      const size = request.maxResults || defaultPageSize;
      const events = reverse ? [...record.events].reverse() : record.events;
      const page = events.slice(offset, offset + size);
      const includeData = request.includeExecutionData ?? true;
      return {
        events: page.map((event) => wireEvent(event, includeData)),
        ...(offset + size < events.length
          ? { nextToken: encodeToken({ arn: record.executionArn, reverse, offset: offset + size }) }
          : {}),
      };
    },

    async ListExecutions(request) {
      if (request.mapRunArn)
        throw sfnError('ValidationException', 'Map runs are not emulated: pass a stateMachineArn');
      if (!request.stateMachineArn) {
        throw sfnError('ValidationException', 'Must provide a StateMachine ARN or MapRun ARN');
      }
      const machine = machineByArn(request.stateMachineArn);
      if (request.statusFilter === 'PENDING_REDRIVE') {
        throw sfnError('ValidationException', 'PENDING_REDRIVE status filter requires a mapRunArn');
      }
      const status = request.statusFilter;
      let after: number | undefined;
      if (request.nextToken) {
        const token = decodeToken(request.nextToken);
        if (
          token.machine !== machine.arn ||
          token.status !== (status ?? null) ||
          typeof token.after !== 'number'
        ) {
          throw sfnError('InvalidToken', `Invalid Token: '${request.nextToken}'`);
        }
        after = token.after;
      }
      const size = request.maxResults || defaultPageSize;
      const matching = store
        .all()
        .filter((record) => record.stateMachineArn === machine.arn && (!status || record.status === status))
        .filter((record) => after === undefined || record.startDate < after)
        .sort((a, b) => b.startDate - a.startDate);
      const page = matching.slice(0, size);
      return {
        executions: page.map((record) => ({
          executionArn: record.executionArn,
          stateMachineArn: record.stateMachineArn,
          name: record.name,
          status: record.status,
          startDate: toEpochSeconds(record.startDate),
          ...(record.stopDate === undefined ? {} : { stopDate: toEpochSeconds(record.stopDate) }),
        })),
        ...(matching.length > size
          ? {
              nextToken: encodeToken({
                machine: machine.arn,
                status: status ?? null,
                after: page.at(-1)!.startDate,
              }),
            }
          : {}),
      };
    },

    async StopExecution(request) {
      const record = executionByArn(request.executionArn);
      if (record.status === 'RUNNING') {
        const run = runs.get(record.executionArn);
        if (run) {
          run.stop(request.error, request.cause);
          await run.done;
        }
      }
      return { stopDate: toEpochSeconds(record.stopDate ?? Date.now()) };
    },

    async DescribeStateMachine({ stateMachineArn }) {
      const machine = machineByArn(stateMachineArn);
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
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const action = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
    if (req.method !== 'POST' || !Object.hasOwn(actionSchemas, action)) {
      throw sfnError(
        'UnknownOperationException',
        `Unknown operation: ${target || `${req.method} ${req.url}`}`,
      );
    }
    const body = parseJson(
      await readBody(req, 1024 * 1024, () =>
        sfnError('ValidationException', 'Request body is larger than 1 MB', 413),
      ),
    );
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw sfnError('SerializationException', 'Request body must be a JSON object');
    }
    const schema = actionSchemas[action as Action];
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issues = parsed.error.issues;
      throw sfnError(
        'ValidationException',
        `${issues.length} validation error${issues.length === 1 ? '' : 's'} detected: ${issues
          .map((issue) => `Value at '${issue.path.join('.')}' failed to satisfy constraint: ${issue.message}`)
          .join('; ')}`,
      );
    }
    const result = await (actions[action as Action] as (input: unknown) => Promise<unknown>)(parsed.data);
    sendJson(res, 200, result, { 'content-type': contentType, 'x-amzn-requestid': randomUUID() });
  }

  const { server, url } = await startHttpServer(options, handle, () =>
    sfnError('InternalFailure', 'The request processing has failed because of an unknown error.', 500),
  );

  // Executions the previous process left RUNNING run again from the start, keeping name, input, ARN and start.
  for (const record of store.all().filter((execution) => execution.status === 'RUNNING')) {
    const machine = machines.get(record.stateMachineArn);
    record.events = record.events.slice(0, 1);
    if (machine) {
      launch(machine, record);
    } else {
      record.status = 'FAILED';
      record.stopDate = Date.now();
      record.error = 'States.Runtime';
      record.cause = `State machine ${record.stateMachineArn} is no longer defined in this emulator.`;
      record.events.push({
        id: 2,
        previousEventId: 1,
        timestamp: record.stopDate,
        type: 'ExecutionFailed',
        executionFailedEventDetails: { error: record.error, cause: record.cause },
      });
      void store.save(record);
    }
  }

  return {
    url,
    async close() {
      closing = true;
      await stopHttpServer(server);
      for (const run of runs.values()) run.detach();
      await store.flush();
    },
  };
}

function wireEvent(event: StoredEvent, includeData: boolean): Record<string, unknown> {
  const wire: Record<string, unknown> = { ...event, timestamp: toEpochSeconds(event.timestamp) };
  if (!includeData) {
    for (const [key, value] of Object.entries(wire)) {
      if (!key.endsWith('EventDetails') || typeof value !== 'object' || value === null) continue;
      const details = { ...(value as Record<string, unknown>) };
      for (const field of ['input', 'inputDetails', 'output', 'outputDetails', 'parameters'])
        delete details[field];
      wire[key] = details;
    }
  }
  return wire;
}

async function loadMachines(
  specs: StateMachineSpec[],
  dataDir: string,
  region: string,
  accountId: string,
): Promise<Map<string, MachineEntry>> {
  // Creation dates survive restarts, as a deployed state machine's would.
  const datesFile = join(dataDir, 'state-machines.json');
  let dates: Record<string, number>;
  try {
    dates = z.record(z.string(), z.number()).parse(JSON.parse(await readFile(datesFile, 'utf8')));
  } catch {
    dates = {};
  }
  const machines = new Map<string, MachineEntry>();
  for (const spec of specs) {
    const definitionText =
      typeof spec.definition === 'string' ? spec.definition : JSON.stringify(spec.definition);
    const definition = JSON.parse(definitionText) as Definition;
    if (definition.QueryLanguage === 'JSONata') {
      throw new Error(
        `State machine ${spec.name}: JSONata is not supported by aws-local-stepfunctions; use JSONPath`,
      );
    }
    // Throws with every ASL validation error listed.
    new StateMachine(definition as never);
    const arn = `arn:aws:states:${region}:${accountId}:stateMachine:${spec.name}`;
    if (machines.has(arn)) throw new Error(`State machine ${spec.name} is defined twice`);
    dates[spec.name] ??= Date.now();
    machines.set(arn, {
      arn,
      name: spec.name,
      roleArn: spec.roleArn ?? `arn:aws:iam::${accountId}:role/${spec.name}-role`,
      region,
      definition,
      definitionText,
      states: analyzeDefinition(definition),
      creationDate: dates[spec.name]!,
    });
  }
  const temporary = `${datesFile}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(dates));
  await rename(temporary, datesFile);
  return machines;
}
