import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { loadConfig } from '@mc-vision/core';
import { execFile } from 'node:child_process';

import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { walkthroughScript } from '@mc-vision/assets/walkthrough';
import { startApiServer, type ApiServer } from '../src/index.ts';
import { startLocalAws, type LocalAws } from './support/local-aws.ts';
import { startLocalPipeline, type LocalPipeline } from './support/pipeline.ts';
import { startLocalProviders, type LocalProviders } from './support/providers.ts';

// The README's curl walkthrough, run as written (only the URL and the key swapped in) with bash and curl from
// the repository root, against the API with its emulators. The pipeline's worker answers are canned here.

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const apiKey = 'walkthrough-key-0123456789';

let aws: LocalAws;
let providers: LocalProviders;
let pipeline: LocalPipeline;
let server: ApiServer;

beforeAll(async () => {
  [aws, providers] = await Promise.all([startLocalAws(), startLocalProviders()]);
  const base = loadConfig({ ...aws.env, ...providers.env, DATA_DIR: aws.dataDir, API_KEY: apiKey });
  pipeline = await startLocalPipeline(base, aws.clients(base).dynamodb);
  const config = loadConfig({
    ...aws.env,
    ...providers.env,
    DATA_DIR: aws.dataDir,
    API_KEY: apiKey,
    SFN_ENDPOINT: pipeline.stepFunctions.url,
  });
  server = await startApiServer({ config, port: 0, logger: new Logger({ logLevel: 'SILENT' }) });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await pipeline?.close();
  await Promise.all([aws?.close(), providers?.close()]);
});

it('runs verbatim: upload, analyse, route, start a pipeline, poll it, read the results', async () => {
  const script = walkthroughScript();
  expect(script).toMatch(/^API=http:\/\/127\.0\.0\.1:3000$/m);
  expect(script).toMatch(/^export API_KEY=.*$/m);
  const runnable = script
    .replace(/^API=http:\/\/127\.0\.0\.1:3000$/m, `API=${server.url}`)
    .replace(/^export API_KEY=.*$/m, `export API_KEY=${apiKey}`);

  const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', runnable], {
    cwd: repoRoot,
    timeout: 60_000,
  });

  expect(stdout).toMatch(/"status":"ok"/); // health, every component up
  const key = /^images\/[0-9a-f]{64}\.jpg$/m.exec(stdout)?.[0];
  expect(key).toBeDefined();
  const documents = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
  const [health, analysis, routed, started, finished, result, recent] = documents;
  expect(health.status).toBe('ok');
  expect(analysis).toMatchObject({ imageKey: key, status: 'complete', source: 'analysis' });
  expect(analysis.results.sagemaker.labels[0].label).toBe('pelican');
  expect(routed).toMatchObject({ chosen: 'azure', result: { imageKey: key } });
  expect(started).toMatchObject({ requestId: expect.stringMatching(/^walkthrough-\d+$/), status: 'RUNNING' });
  expect(finished).toMatchObject({ requestId: started.requestId, status: 'SUCCEEDED' });
  expect(finished.steps).toHaveLength(6);
  expect(result).toEqual(finished.output);
  expect(recent.items.length).toBeGreaterThanOrEqual(3);
  // The presigned upload: the PUT answers with no body, then the key is echoed.
  expect(stdout.trim().split('\n').at(-1)).toMatch(/^images\/[0-9a-f-]{36}\.jpg$/);
});
