import { Command, InvalidArgumentError } from 'commander';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { sniffImageType } from '@mc-vision/core/image-type';
import { retryFailed, runFolderBatch, type BatchOptions, type Output } from './batch.ts';
import { ApiCallError, client, defaultApiUrl, localKey, type Client } from './client.ts';

// mcv: the platform from a terminal. Every command talks to the API (the local one unless --api says otherwise)
// exactly as the README's curl lines do.

export { retryFailed, runFolderBatch } from './batch.ts';
export { scanFolder } from './folder.ts';

const positive = (value: string) => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new InvalidArgumentError('must be a positive whole number');
  return number;
};

async function imageBody(file: string): Promise<{ bytes: Buffer; contentType: string }> {
  const bytes = await readFile(file);
  const contentType = sniffImageType(bytes);
  if (!contentType) throw new Error(`${file} is not a JPEG, PNG or WebP image`);
  return { bytes, contentType };
}

interface BatchCommandOptions {
  out: string;
  requestId?: string;
  providers?: string;
  concurrency: number;
}

export interface CliEnvironment extends Output {
  env: NodeJS.ProcessEnv;
}

/** Runs mcv with `argv` (without node and the script); resolves with the exit code. */
export async function runCli(argv: string[], io: CliEnvironment): Promise<number> {
  const program = new Command('mcv')
    .description('MC Vision from the command line: batches, analyses, pipelines and results')
    .option('--api <url>', 'the API to talk to (env MCV_API_URL)', io.env.MCV_API_URL ?? defaultApiUrl)
    .option('--key <key>', "the API key (env MCV_API_KEY; default: the local platform's, from .data/api-key)")
    .configureOutput({ writeOut: (text) => io.out(text.trimEnd()), writeErr: (text) => io.err.write(text) })
    .exitOverride();

  const connect = async (): Promise<Client> => {
    const { api, key } = program.opts<{ api: string; key?: string }>();
    const apiKey = key ?? io.env.MCV_API_KEY ?? (await localKey(io.env));
    if (!apiKey)
      throw new Error('no API key: pass --key, set MCV_API_KEY, or start the local platform (pnpm start)');
    return client({ api, key: apiKey });
  };
  const print = (value: unknown) => io.out(JSON.stringify(value, null, 2));
  // pnpm runs scripts from the repository's root; a path is the user's, from where they typed it.
  const userPath = (path: string) => resolve(io.env.INIT_CWD ?? process.cwd(), path);

  /** A batch's exit code: 0 once it SUCCEEDED, 1 when it ended otherwise. */
  let exitCode = 0;
  const batchOptions = (options: BatchCommandOptions): BatchOptions => ({
    out: userPath(options.out),
    concurrency: options.concurrency,
    pollMs: 500,
    ...(options.requestId ? { requestId: options.requestId } : {}),
    ...(options.providers ? { providers: options.providers.split(',').map((name) => name.trim()) } : {}),
  });
  const withBatchOptions = (command: Command) =>
    command
      .option('-o, --out <file>', 'where the results go, one JSON line per image', 'mcv-results.jsonl')
      .option('--request-id <id>', 'the batch id: the same id again is the same batch')
      .option('--providers <list>', 'which providers to run (comma-separated: sagemaker,bedrock,azure)')
      .option('--concurrency <n>', 'uploads and reads at a time', positive, 4);

  withBatchOptions(
    program
      .command('batch')
      .description('upload every image in a folder, run them as one batch, write each result as a JSON line')
      .argument('<folder>', 'a folder of JPEG, PNG and WebP images'),
  ).action(async (folder: string, options: BatchCommandOptions) => {
    const status = await runFolderBatch(await connect(), userPath(folder), batchOptions(options), io);
    if (status.status !== 'SUCCEEDED') exitCode = 1;
  });

  withBatchOptions(
    program
      .command('retry')
      .description("run a batch's failed images again, as a new batch")
      .argument('<batchId>'),
  ).action(async (batchId: string, options: BatchCommandOptions) => {
    const status = await retryFailed(await connect(), batchId, batchOptions(options), io);
    if (status.status !== 'SUCCEEDED') exitCode = 1;
  });

  program
    .command('analyse')
    .description('upload an image and analyse it with all three providers now')
    .argument('<file>')
    .action(async (file: string) => {
      const api = await connect();
      const { bytes, contentType } = await imageBody(userPath(file));
      const { key } = await api.upload(bytes, contentType);
      print((await api.json('POST', '/v1/analyses', { key })).body);
    });

  program
    .command('pipeline')
    .description('upload an image, run the Step Functions pipeline on it and wait for its record')
    .argument('<file>')
    .action(async (file: string) => {
      const api = await connect();
      const { bytes, contentType } = await imageBody(userPath(file));
      const { key } = await api.upload(bytes, contentType);
      const started = (await api.json<{ requestId: string }>('POST', '/v1/pipelines', { key })).body;
      for (;;) {
        const status = (await api.json<{ status: string }>('GET', `/v1/pipelines/${started.requestId}`)).body;
        if (status.status !== 'RUNNING') break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      print((await api.json('GET', `/v1/results/${started.requestId}`)).body);
    });

  program
    .command('results')
    .description('the most recent records, newest first')
    .option('--limit <n>', 'how many', positive, 20)
    .action(async (options: { limit: number }) => {
      print((await (await connect()).json('GET', `/v1/results?limit=${options.limit}`)).body);
    });

  program
    .command('redrive')
    .description(
      'redrive a failed, timed-out or stopped batch: what had not finished runs; a failed item fails again (retry runs those)',
    )
    .argument('<batchId>')
    .action(async (batchId: string) => {
      print(
        (await (await connect()).json('POST', `/v1/batches/${encodeURIComponent(batchId)}/redrive`, {})).body,
      );
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return 0;
    if (code?.startsWith('commander.')) return 2;
    io.err.write(
      `mcv: ${error instanceof ApiCallError || error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
}
