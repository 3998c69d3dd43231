// The laptop runtime: `startLocalCloud` brings the whole platform up on loopback; `pnpm start` runs src/main.ts.
export {
  buildLocalConfig,
  defaultDataDir,
  planProviders,
  resolveDataDir,
  resolveUserPath,
  type Env,
  type ProviderPlan,
} from './config.ts';
export {
  startLocalCloud,
  type LocalCloud,
  type LocalCloudOptions,
  type LocalComponent,
} from './local-cloud.ts';
export { consoleLog, formatLogEntry, type Log, type LogEntry, type LogLevel } from './log.ts';
export type { OutboxEntry } from './notifications.ts';
export { ensureWebBuild, webBuildState } from './web-build.ts';
