import type { S3Client } from '@aws-sdk/client-s3';
import { mkdir } from 'node:fs/promises';
import { z } from 'zod';
import { accountIdSchema, regionSchema } from '../aws-json/index.ts';
import { stopHttpServer, type EmulatorServer, type ListenOptions } from '../http.ts';
import { executionActions, type StepFunctionsContext } from './actions.ts';
import { ExecutionRun, type RunMode, type TaskHandler } from './execution-run.ts';
import { loadMachines, type MachineEntry, type StateMachineSpec } from './machines.ts';
import { mapRunActions } from './map-run-actions.ts';
import { runDistributedMap } from './map-run.ts';
import { MapRunStore } from './map-run-store.ts';
import { isValidExecutionName, sfnProtocol } from './protocol.ts';
import { ExecutionStore, type ExecutionRecord, type ExecutionStatus } from './store.ts';

// A Step Functions endpoint for the laptop: the real JSON 1.0 protocol (the actions in actions.ts) in front of
// aws-local-stepfunctions, with every Task delegated to `taskHandler`, executions and their history kept as
// JSON under `dataDir`, and executions that were RUNNING when the process stopped run again from the start
// when it comes back (reusing the results of their Tasks that had succeeded). Distributed Map states run as map
// runs (map-run.ts), reading and writing S3 through `s3`.

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
  /** What Distributed Maps' ItemReader and ResultWriter read and write S3 through. */
  s3?: S3Client;
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
  const mapRuns = await MapRunStore.open(dataDir);
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

  function launch(machine: MachineEntry, record: ExecutionRecord, mode: RunMode = 'run'): void {
    if (closing) return; // stays RUNNING on disk: the next start runs it
    const run = new ExecutionRun({
      machine,
      record,
      store,
      taskHandler: options.taskHandler,
      mode,
      runDistributedMap: (call) => runDistributedMap(context, call),
      ...(options.retryIntervalOverrides ? { retryIntervalOverrides: options.retryIntervalOverrides } : {}),
      // A map run's children are not the machine's executions in AWS/States; their parent's map run is.
      onClosed: (closed) => {
        if (closed.mapRunArn) return;
        observe({
          type: 'closed',
          stateMachineArn: closed.stateMachineArn,
          executionArn: closed.executionArn,
          status: closed.status as Exclude<ExecutionStatus, 'RUNNING'>,
          startDate: closed.startDate,
          stopDate: closed.stopDate ?? Date.now(),
        });
      },
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
    mapRuns,
    runs,
    launch,
    ...(options.s3 ? { s3: options.s3 } : {}),
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
  const { server, url } = await sfnProtocol.listen(
    options,
    { ...executionActions, ...mapRunActions },
    context,
  );
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

/**
 * Executions the previous process left RUNNING run again from the start, keeping name, input, ARN and start. A
 * map run's children are resumed by their map run, when their parent's run reaches it again.
 */
function resumeRunning(context: StepFunctionsContext): void {
  const running = context.store.all().filter((execution) => execution.status === 'RUNNING');
  for (const record of running.filter((execution) => !execution.mapRunArn)) {
    const machine = context.machines.get(record.stateMachineArn);
    // A redriven execution keeps the history it had before its redrive; a first run starts afresh.
    record.events = record.events.slice(0, lastRedriveEvent(record) ?? 1);
    if (machine) {
      context.launch(machine, record, 'resume');
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

/** How many events lead up to (and include) the execution's last ExecutionRedriven event, if it has one. */
function lastRedriveEvent(record: ExecutionRecord): number | undefined {
  const index = record.events.findLastIndex((event) => event.type === 'ExecutionRedriven');
  return index < 0 ? undefined : index + 1;
}
