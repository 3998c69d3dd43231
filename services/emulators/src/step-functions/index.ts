export type { TaskCall, TaskHandler } from './execution-run.ts';
export {
  startStepFunctionsServer,
  type ExecutionEvent,
  type StateMachineSpec,
  type StepFunctionsServerOptions,
} from './server.ts';
export { readExecutions, type ExecutionRecord } from './store.ts';
