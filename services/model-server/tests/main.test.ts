import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { classifierResponseSchema } from '@mc-vision/core/schemas';
import { modelDir, pelican, postImage } from './helpers.ts';

// The container entry point, started the way SageMaker starts it: `serve` as the only argument.

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function start(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [main, ...args], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  const events: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout });
  const listening = new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const event = JSON.parse(line) as Record<string, unknown>;
      events.push(event);
      if (event.event === 'listening') resolve(event.url as string);
    });
    child.on('exit', () => reject(new Error(`exited before listening: ${JSON.stringify(events)} ${stderr}`)));
  });
  listening.catch(() => {}); // awaited only by the tests that expect the server to come up
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, events, listening, exited, stderr: () => stderr };
}

describe('node src/main.ts serve', () => {
  it('serves the model, logs JSON lines and stops cleanly on SIGTERM', async () => {
    const server = start(['serve'], { MODEL_DIR: modelDir });
    const url = await server.listening;
    expect((await fetch(`${url}/ping`)).status).toBe(200);
    const { status, body } = await postImage(`${url}/invocations`, pelican);
    expect(status).toBe(200);
    expect(classifierResponseSchema.parse(body).labels[0]?.label).toBe('pelican');

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.events.map((event) => event.event)).toEqual(['listening', 'invocation', 'stopping']);
    expect(server.events[1]).toMatchObject({ status: 200, top: 'pelican' });
  });

  it('exits 1 with the reason when the model package is not servable', async () => {
    const server = start([], { MODEL_DIR: '/nonexistent/model' });
    expect(await server.exited).toBe(1);
    expect(server.events).toEqual([
      expect.objectContaining({ event: 'failed', error: expect.stringMatching(/nonexistent/) }),
    ]);
  });

  it('exits 1 listing every invalid setting', async () => {
    const server = start([], { MODEL_DIR: modelDir, PORT: 'eighty', MAX_IMAGE_BYTES: '10' });
    expect(await server.exited).toBe(1);
    const error = String(server.events[0]?.error);
    expect(error).toMatch(/PORT/);
    expect(error).toMatch(/MAX_IMAGE_BYTES/);
  });

  it('rejects arguments other than serve', async () => {
    const server = start(['train'], { MODEL_DIR: modelDir });
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toMatch(/unexpected arguments: train/);
  });
});
