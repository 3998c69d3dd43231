// Local stand-ins for the cloud services that have no emulator of their own. Each start function listens on
// 127.0.0.1 (port 0 by default) and returns `{ url, close() }`.
export * from './azure-openai/index.ts';
export * from './bedrock/index.ts';
export * from './cloudwatch/index.ts';
export { faultRoute, type FaultInput } from './faults.ts';
export * from './guardrail/index.ts';
export type { EmulatorServer, ListenOptions } from './http.ts';
export * from './secrets-manager/server.ts';
export * from './step-functions/index.ts';
export {
  cleanLabel,
  describeFromLabels,
  type ClassifyImage,
  type ImageDescription,
  type TransformDescription,
} from './vision.ts';
