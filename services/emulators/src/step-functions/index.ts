export type { TaskCall, TaskHandler } from './execution-run.ts';
export {
  startStepFunctionsServer,
  type StateMachineSpec,
  type StepFunctionsServerOptions,
} from './server.ts';
