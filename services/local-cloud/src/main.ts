// `pnpm start`: the whole platform on this machine, on loopback, until Ctrl-C.
import { ConfigError } from '@mc-vision/core';
import { resolveDataDir } from './config.ts';
import { startLocalCloud, type LocalCloud } from './local-cloud.ts';
import { consoleLog } from './log.ts';
import { ensureWebBuild, webBuildState } from './web-build.ts';

const started = performance.now();
// Everything this process writes (the data folder, LevelDB, S3 objects, executions) is its owner's alone.
process.umask(0o077);

function explain(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') {
    const port = (error as { port?: number }).port;
    return `port ${port ?? process.env.PORT ?? 3000} is already in use: stop what uses it, or set PORT to another port`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Where the providers that are not emulated here go. */
function providersElsewhere(cloud: LocalCloud): string[] {
  const { config, emulated } = cloud;
  const realAws = (service: string) => `real ${service} in ${config.AWS_REGION} (your AWS credentials)`;
  return [
    ...(emulated.sagemaker ? [] : [['sagemaker', config.SAGEMAKER_RUNTIME_ENDPOINT ?? realAws('SageMaker')]]),
    ...(emulated.bedrock ? [] : [['bedrock', config.BEDROCK_RUNTIME_ENDPOINT ?? realAws('Bedrock')]]),
    ...(emulated.azure ? [] : [['azure', config.AZURE_OPENAI_ENDPOINT]]),
  ].map(([name, where]) => `${name!.padEnd(14)} ${where}`);
}

function banner(cloud: LocalCloud, seconds: number): string {
  const classifier =
    'model' in cloud.classifier
      ? `${cloud.classifier.model}${cloud.classifier.origin === 'bundled' ? '  (bundled; `pnpm model:fetch` gets ResNet-18)' : ''}`
      : `UNAVAILABLE: ${cloud.classifier.unavailable}`;
  return [
    '',
    `MC Vision is running on this machine (started in ${seconds.toFixed(1)} s)`,
    '',
    `  UI         ${cloud.signInUrl}   (one-time sign-in link)`,
    `  API        ${cloud.url}   (send the key in x-api-key)`,
    `  API key    ${cloud.apiKey}`,
    `  admin      ${cloud.adminToken}   (this run's token for the emulators' fault routes: Authorization: Bearer …)`,
    `  data       ${cloud.dataDir}`,
    `  outbox     ${cloud.outboxFile}`,
    `  classifier ${classifier}`,
    '',
    '  components',
    ...cloud.components.map(
      ({ name, url, description }) => `    ${name.padEnd(14)} ${url}  (${description})`,
    ),
    ...providersElsewhere(cloud).map((line) => `    ${line}`),
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

let cloud: LocalCloud;
try {
  const ui = await webBuildState();
  if (ui !== 'current') {
    consoleLog({ component: 'web', level: 'info', message: `building the web UI (${ui})` });
    await ensureWebBuild();
  }
  cloud = await startLocalCloud({ dataDir: resolveDataDir(process.env), env: process.env, log: consoleLog });
} catch (error) {
  console.error(`\nMC Vision could not start: ${explain(error)}`);
  process.exit(1);
}

console.log(banner(cloud, (performance.now() - started) / 1000));

// pnpm passes the terminal's Ctrl-C on to the script, which the terminal has already signalled: a repeat within
// a second is the same Ctrl-C, not a second one.
let stopRequested: number | undefined;
const stop = (signal: string) => {
  if (stopRequested !== undefined) {
    if (performance.now() - stopRequested < 1_000) return;
    console.error(`${signal} again: stopping at once`);
    process.exit(1);
  }
  stopRequested = performance.now();
  console.log(`\n${signal}: stopping (press Ctrl-C again to force)`);
  cloud.close().then(
    () => {
      console.log('stopped');
      process.exit(0);
    },
    (error: unknown) => {
      console.error(`stopping failed: ${explain(error)}`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
