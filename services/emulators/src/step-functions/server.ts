import { mkdir } from 'node:fs/promises';
import { z } from 'zod';
import { accountIdSchema, regionSchema } from '../aws-json/index.ts';
import { stopHttpServer, type EmulatorServer, type ListenOptions } from '../http.ts';
import { stepFunctionsActions, type StepFunctionsContext } from './actions.ts';
import { ExecutionRun, type TaskHandler } from './execution-run.ts';
import { loadMachines, type MachineEntry, type StateMachineSpec } from './machines.ts';
import { isValidExecutionName, sfnProtocol } from './protocol.ts';
import { ExecutionStore, type ExecutionRecord, type ExecutionStatus } from './store.ts';

// A Step Functions endpoint for the laptop: the real JSON 1.0 protocol (the actions in actions.ts) in front of
// aws-local-stepfunctions, with every Task delegated to `taskHandler`, executions and their history kept as
// JSON under `dataDir`, and executions that were RUNNING when the process stopped run again from the start
// when it comes back.

export type { StateMachineSpec } from './machines.ts';

export type ExecutionEvent =
  | { type: 'started'; stateMachineArn: string; executionArn: string; startDate: number }
  | {
      type: 'closed';
      stateMachineArn: string;
      executionArn: string;
      status: Exclude<ExecutionStatus, 'RUNNING'>;
      startDate: number;
      stopDate: number;
    };

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
  /**
   * Told when an execution starts (once, not again when a restart re-runs it) and when it closes: what Step
   * Functions turns into its `AWS/States` metrics. Called synchronously; it must not throw.
   */
  onExecution?: (event: ExecutionEvent) => void;
}

const optionsSchema = z.object({
  dataDir: z.string().min(1),
  region: regionSchema,
  accountId: accountIdSchema,
  stateMachines: z
    .array(z.object({ name: z.string().refine(isValidExecutionName, 'invalid state machine name') }).loose())
    .min(1),
});

export async function startStepFunctionsServer(options: StepFunctionsServerOptions): Promise<EmulatorServer> {
  const { dataDir, region, accountId } = optionsSchema.parse(options);
  await mkdir(dataDir, { recursive: true });
  const machines = await loadMachines(options.stateMachines, dataDir, region, accountId);
  const store = await ExecutionStore.open(dataDir);
  const runs = new Map<string, ExecutionRun>();
  let lastStartDate = Math.max(0, ...store.all().map((record) => record.startDate));
  let closing = false;
  const observe = (event: ExecutionEvent) => {
    try {
      options.onExecution?.(event);
    } catch (error) {
      console.error('step-functions emulator: the execution observer failed', error);
    }
  };

  function launch(machine: MachineEntry, record: ExecutionRecord): void {
    if (closing) return; // stays RUNNING on disk: the next start runs it
    const run = new ExecutionRun({
      machine,
      record,
      store,
      taskHandler: options.taskHandler,
      ...(options.retryIntervalOverrides ? { retryIntervalOverrides: options.retryIntervalOverrides } : {}),
      onClosed: (closed) =>
        observe({
          type: 'closed',
          stateMachineArn: closed.stateMachineArn,
          executionArn: closed.executionArn,
          status: closed.status as Exclude<ExecutionStatus, 'RUNNING'>,
          startDate: closed.startDate,
          stopDate: closed.stopDate ?? Date.now(),
        }),
    });
    runs.set(record.executionArn, run);
    void run.done.then(() => runs.delete(record.executionArn));
    run.start();
  }

  const context: StepFunctionsContext = {
    region,
    accountId,
    machines,
    store,
    runs,
    launch,
    started: (record) =>
      observe({
        type: 'started',
        stateMachineArn: record.stateMachineArn,
        executionArn: record.executionArn,
        startDate: record.startDate,
      }),
    nextStartDate() {
      lastStartDate = Math.max(Date.now(), lastStartDate + 0.001);
      return lastStartDate;
    },
  };
  const { server, url } = await sfnProtocol.listen(options, stepFunctionsActions, context);
  resumeRunning(context);

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

/** Executions the previous process left RUNNING run again from the start, keeping name, input, ARN and start. */
function resumeRunning(context: StepFunctionsContext): void {
  for (const record of context.store.all().filter((execution) => execution.status === 'RUNNING')) {
    const machine = context.machines.get(record.stateMachineArn);
    record.events = record.events.slice(0, 1);
    if (machine) {
      context.launch(machine, record);
      continue;
    }
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
    void context.store.save(record);
  }
}
