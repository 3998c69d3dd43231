import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bundledModelDir } from '@mc-vision/assets';
import { resnet18, type ModelDownload } from '@mc-vision/model-server';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { LogEntry } from '../src/index.ts';
import { resolveModel } from '../src/model.ts';
import { startTestCloud, tempDir, uploadPelican, waitForPipeline, type TestCloud } from './support.ts';

// Without a model the platform still starts: /health says the classifier is down and why, and a pipeline ends
// with a record that carries the classifier's error instead of hanging.

describe('the local cloud without a model', () => {
  let local: TestCloud;
  let missing: string;

  beforeAll(async () => {
    const dataDir = await tempDir('no-model');
    missing = join(dataDir, 'no-such-model');
    local = await startTestCloud({ dataDir, modelDir: missing });
  }, 60_000);

  afterAll(async () => {
    await local?.close();
  });

  it('starts, and /health says the classifier is down and why', async () => {
    expect(local.cloud.classifier).toEqual({ unavailable: expect.stringContaining(missing) });
    const response = await fetch(`${local.cloud.url}/health`);
    expect(response.status).toBe(200); // the API works without the classifier
    const health = (await response.json()) as { status: string; components: Record<string, unknown> };
    expect(health.status).toBe('degraded');
    expect(health.components.classifier).toEqual({
      status: 'down',
      detail: expect.stringMatching(
        /^the model failed to load: the model in .*no-such-model cannot be loaded/,
      ),
    });
    for (const name of [
      'imagesBucket',
      'resultsTable',
      'stateMachine',
      'notifications',
      'bedrock',
      'azure',
    ]) {
      expect(health.components[name]).toEqual({ status: 'up' });
    }
    expect(local.logs).toContainEqual(
      expect.objectContaining({
        component: 'model',
        level: 'warn',
        message: expect.stringContaining(missing),
      }),
    );
  });

  it('ends a pipeline with a record carrying the classifier error', async () => {
    const key = await uploadPelican(local.api);
    await local.api.post('/v1/pipelines', { key, requestId: 'no-model' });
    const finished = await waitForPipeline(local.api, 'no-model', 90_000);
    expect(finished.status).toBe('SUCCEEDED');
    const classify = finished.steps.find((step: { name: string }) => step.name === 'Classify');
    // Unavailable is worth retrying (a model may still be loading): the retries ran, then the Catch.
    expect(classify).toMatchObject({ status: 'caught', attempts: 4, error: { code: 'ProviderUnavailable' } });

    const record = (await local.api.get('/v1/results/no-model')).body;
    expect(record.errors.sagemaker).toEqual({
      code: 'ProviderUnavailable',
      // The record names the failure, not the upstream text; /health gives the reason (above).
      message: 'sagemaker: unavailable (ModelNotReadyException)',
    });
    expect(record.results.sagemaker).toBeUndefined();
    // The LLM emulators describe images from the classifier's labels: they cannot either, and say so.
    expect(record.status).toBe('failed');
    expect(Object.keys(record.errors).sort()).toEqual(['azure', 'bedrock', 'sagemaker']);
  }, 120_000);
});

describe('choosing the model', () => {
  const logs: LogEntry[] = [];
  const log = (entry: LogEntry) => logs.push(entry);
  let dir: string;
  let server: Server;
  let url: string;
  /** What the download server does: answer 404, or accept and then say nothing. */
  let behaviour: 'not-found' | 'silent' = 'not-found';

  beforeAll(async () => {
    dir = await tempDir('models');
    server = createServer((req, res) => {
      if (behaviour === 'not-found') res.writeHead(404).end('no such model');
      // 'silent': the request is left hanging, as a dead connection would.
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/resnet18.onnx`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const download = (): ModelDownload => ({ ...resnet18, url });

  it('takes MODEL_DIR first, then the default folder, without downloading', async () => {
    const defaultDir = join(dir, 'default');
    expect(await resolveModel({ modelDir: '/models/mine', defaultDir, download: download(), log })).toEqual({
      dir: '/models/mine',
      origin: 'MODEL_DIR',
    });
    await mkdir(defaultDir, { recursive: true });
    await writeFile(join(defaultDir, 'manifest.json'), '{}');
    expect(await resolveModel({ defaultDir, download: download(), log })).toEqual({
      dir: defaultDir,
      origin: 'default',
    });
  });

  it('serves the bundled darknet-tiny when the download fails, saying so in one line', async () => {
    behaviour = 'not-found';
    logs.length = 0;
    const defaultDir = join(dir, 'absent');
    const choice = await resolveModel({ defaultDir, download: download(), log });
    expect(choice).toEqual({ dir: bundledModelDir, origin: 'bundled' });
    expect(logs).toContainEqual(expect.objectContaining({ component: 'model', url }));
    const warnings = logs.filter((entry) => entry.level === 'warn');
    expect(warnings).toEqual([
      {
        component: 'model',
        level: 'warn',
        message:
          `resnet18-v1-7 could not be downloaded (download failed: ${url} answered HTTP 404 Not Found): ` +
          'serving the bundled darknet-tiny instead; for resnet18-v1-7, run `pnpm model:fetch` or set MODEL_DIR',
      },
    ]);
    expect(existsSync(defaultDir)).toBe(false); // nothing half-written is left
  });

  it('gives up on a download that makes no progress instead of hanging', async () => {
    behaviour = 'silent';
    logs.length = 0;
    const choice = await resolveModel({
      defaultDir: join(dir, 'stalled'),
      download: download(),
      stallTimeoutMs: 300,
      log,
    });
    expect(choice).toEqual({ dir: bundledModelDir, origin: 'bundled' });
    expect(logs.at(-1)?.message).toContain('(no progress for 0.3 s)');
  });
});
