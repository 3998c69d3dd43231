// Run by execution-run.test.ts in its own Node process, where an unhandled rejection ends the process as it
// would end the local cloud: one execution whose history bookkeeping breaks mid-run. Prints what the run
// recorded as JSON.
import { analyzeDefinition, type Definition } from '../../src/step-functions/definition.ts';
import { ExecutionRun } from '../../src/step-functions/execution-run.ts';
import type { ExecutionRecord, ExecutionStore } from '../../src/step-functions/store.ts';

const machineArn = 'arn:aws:states:us-east-1:000000000000:stateMachine:bookkeeping';
const definition: Definition = {
  StartAt: 'Work',
  States: { Work: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:w', End: true } },
};
const record: ExecutionRecord = {
  executionArn: 'arn:aws:states:us-east-1:000000000000:execution:bookkeeping:run-1',
  stateMachineArn: machineArn,
  stateMachineName: 'bookkeeping',
  name: 'run-1',
  status: 'RUNNING',
  input: '{}',
  startDate: Date.now(),
  events: [{ id: 1, previousEventId: 0, timestamp: Date.now(), type: 'ExecutionStarted' }],
};
// Recording the Task's entry throws: the event consumer fails before it opens the Task's gate, so the run
// itself waits there and never settles on its own.
const store = {
  save(saved: ExecutionRecord): Promise<void> {
    if (saved.events.at(-1)?.type === 'TaskStateEntered') throw new Error('the disk is on fire');
    return Promise.resolve();
  },
};
let taskCalls = 0;
const run = new ExecutionRun({
  machine: {
    arn: machineArn,
    name: 'bookkeeping',
    roleArn: 'arn:aws:iam::000000000000:role/sfn',
    region: 'us-east-1',
    definition,
    states: analyzeDefinition(definition),
    distributedMaps: new Map(),
  },
  record,
  store: store as unknown as ExecutionStore,
  taskHandler: async () => {
    taskCalls += 1;
    return { done: true };
  },
});
run.start();
await run.done;
process.stdout.write(
  JSON.stringify({
    status: record.status,
    error: record.error,
    lastEvent: record.events.at(-1)?.type,
    taskCalls,
  }),
);
