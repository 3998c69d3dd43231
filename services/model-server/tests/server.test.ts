import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { classifierResponseSchema, errorResponseSchema } from '@mc-vision/core/schemas';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { createClassifier } from '../src/classifier.ts';
import type { ImageClassifier } from '../src/classifier.ts';
import { loadModelPackage } from '../src/model-package.ts';
import { createModelServer, startModelServer } from '../src/server.ts';
import type { RunningModelServer } from '../src/server.ts';
import { baldEagle, modelDir, pelican, postImage, tempDir } from './helpers.ts';

let server: RunningModelServer;

beforeAll(async () => {
  server = await startModelServer({ modelDir, port: 0 });
});
afterAll(() => server.close());

const invoke = (body: Uint8Array, headers?: Record<string, string>, query = '') =>
  postImage(`${server.url}/invocations${query}`, body, headers);

const topLabel = (body: Record<string, unknown>) => classifierResponseSchema.parse(body).labels[0]?.label;

function expectError(
  result: { status: number; body: Record<string, unknown> },
  status: number,
  code: string,
) {
  expect(result.status).toBe(status);
  expect(errorResponseSchema.parse(result.body).error.code).toBe(code);
}

describe('POST /invocations', () => {
  it('names the pelican photo a pelican, with the model name and five labels by default', async () => {
    const { status, body } = await invoke(pelican);
    expect(status).toBe(200);
    const answer = classifierResponseSchema.parse(body);
    expect(answer.model).toBe(server.classifier.model);
    expect(answer.labels[0]?.label).toBe('pelican');
    expect(answer.labels).toHaveLength(5);
    const scores = answer.labels.map((entry) => entry.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('has bald eagle among the top two for the bald eagle photo', async () => {
    const { status, body } = await invoke(baldEagle);
    expect(status).toBe(200);
    const labels = classifierResponseSchema
      .parse(body)
      .labels.slice(0, 2)
      .map((entry) => entry.label);
    expect(labels).toContain('bald eagle');
  });

  it('reads PNG and WebP as well as JPEG', async () => {
    const png = await sharp(pelican).png().toBuffer();
    const webp = await sharp(pelican).webp({ quality: 90 }).toBuffer();
    expect(topLabel((await invoke(png, { 'content-type': 'image/png' })).body)).toBe('pelican');
    expect(topLabel((await invoke(webp, { 'content-type': 'image/webp' })).body)).toBe('pelican');
  });

  it('returns top_k labels from SageMaker custom attributes or the query string', async () => {
    const fromHeader = await invoke(pelican, { 'x-amzn-sagemaker-custom-attributes': 'trace=abc; top_k=2' });
    expect(classifierResponseSchema.parse(fromHeader.body).labels).toHaveLength(2);
    const fromQuery = await invoke(pelican, {}, '?top_k=1');
    expect(classifierResponseSchema.parse(fromQuery.body).labels.map((entry) => entry.label)).toEqual([
      'pelican',
    ]);
    expectError(await invoke(pelican, {}, '?top_k=0'), 400, 'invalid_request');
    expectError(
      await invoke(pelican, { 'x-amzn-sagemaker-custom-attributes': 'top_k=1001' }),
      400,
      'invalid_request',
    );
  });

  it('answers requests sent at once each with its own image', async () => {
    const images = [pelican, baldEagle, pelican, baldEagle, pelican, baldEagle, pelican, baldEagle];
    const alone = [(await invoke(pelican)).body, (await invoke(baldEagle)).body];
    const together = await Promise.all(images.map((image) => invoke(image)));
    together.forEach((result, i) => {
      expect(result.status).toBe(200);
      expect(result.body).toEqual(alone[i % 2]);
    });
  });

  it('refuses a text file with 415', async () => {
    expectError(
      await invoke(Buffer.from('just some text, not a picture\n'), { 'content-type': 'text/plain' }),
      415,
      'unsupported_media_type',
    );
  });

  it('refuses an SVG (not one of the accepted formats) with 415', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300"><rect width="300" height="300"/></svg>',
    );
    expectError(await invoke(svg, { 'content-type': 'image/svg+xml' }), 415, 'unsupported_media_type');
  });

  it('refuses a truncated JPEG with 422', async () => {
    const truncated = pelican.subarray(0, Math.floor(pelican.length / 2));
    expectError(await invoke(truncated), 422, 'undecodable_image');
  });

  it('refuses an image with more pixels than the limit with 413, before decoding it', async () => {
    // 8000x6000 = 48 M pixels, over the 40 M default, in a few hundred KB of JPEG.
    const huge = await sharp({ create: { width: 8000, height: 6000, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    const result = await invoke(huge);
    expectError(result, 413, 'payload_too_large');
    expect(JSON.stringify(result.body)).toContain('8000x6000');
  });

  it('refuses a body over the byte limit with 413, declared or streamed', async () => {
    const tooBig = Buffer.concat([pelican, Buffer.alloc(4_000_001)]);
    expectError(await invoke(tooBig), 413, 'payload_too_large');

    // No content-length: the server counts and stops at the limit.
    const chunked = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(1_000_000));
        controller.close();
      },
    });
    const response = await fetch(`${server.url}/invocations`, {
      method: 'POST',
      body: chunked,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(errorResponseSchema.parse(await response.json()).error.code).toBe('payload_too_large');
    // The connection is still good for the next request.
    expect(topLabel((await invoke(pelican)).body)).toBe('pelican');
  });

  it('refuses an empty body with 400', async () => {
    expectError(await invoke(new Uint8Array(0)), 400, 'invalid_request');
  });
});

describe('routes', () => {
  it('answers unknown paths with a JSON 404 and wrong methods with 405', async () => {
    const missing = await fetch(`${server.url}/nope`);
    expect(missing.status).toBe(404);
    expect(errorResponseSchema.parse(await missing.json()).error.code).toBe('not_found');
    const getInvocations = await fetch(`${server.url}/invocations`);
    expect(getInvocations.status).toBe(405);
    expect(getInvocations.headers.get('allow')).toBe('POST');
  });
});

describe('malformed requests', () => {
  it('answers a request target that is not a URL with 404 and keeps serving', async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(server.port, '127.0.0.1', () =>
        socket.end('POST http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      );
      let data = '';
      socket.on('data', (chunk) => (data += chunk));
      socket.on('close', () => resolve(data));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 404 /);
    expect(reply).toContain('"code":"not_found"');
    expect((await fetch(`${server.url}/ping`)).status).toBe(200);
  });
});

describe('GET /ping', () => {
  it('tells its owner each image it classified, with top_k and the answer it sent, and nothing it refused', async () => {
    const told: { bytes: number; topK: number; top: string | undefined }[] = [];
    const watched = await startModelServer({
      modelDir,
      port: 0,
      answered: (image, topK, answer) =>
        told.push({ bytes: image.byteLength, topK, top: answer.labels[0]?.label }),
    });
    try {
      const sent = await postImage(`${watched.url}/invocations?top_k=3`, pelican);
      expect(sent.status).toBe(200);
      expect(classifierResponseSchema.parse(sent.body).labels).toHaveLength(3);
      expect((await postImage(`${watched.url}/invocations`, Buffer.from('not an image'))).status).toBe(415);
      expect(told).toEqual([{ bytes: pelican.byteLength, topK: 3, top: 'pelican' }]);
    } finally {
      await watched.close();
    }
  });

  it('is 503 until the model has loaded, then 200', async () => {
    let finishLoading!: (classifier: ImageClassifier) => void;
    const loading = new Promise<ImageClassifier>((resolve) => (finishLoading = resolve));
    const http = createModelServer({ classifier: loading });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
    const classifier = await createClassifier(await loadModelPackage(modelDir));
    try {
      const before = await fetch(`${base}/ping`);
      expect(before.status).toBe(503);
      expect(errorResponseSchema.parse(await before.json()).error.code).toBe('not_ready');
      expectError(await postImage(`${base}/invocations`, pelican), 503, 'not_ready');

      finishLoading(classifier);
      await loading;
      const after = await fetch(`${base}/ping`);
      expect(after.status).toBe(200);
      expect(await after.json()).toEqual({ status: 'ready', model: classifier.model });
    } finally {
      await new Promise((resolve) => http.close(resolve));
      await classifier.close();
    }
  });

  it('stays 503, saying why, when the model fails to load', async () => {
    const loading = loadModelPackage('/nonexistent/model').then((pkg) => createClassifier(pkg));
    const http = createModelServer({ classifier: loading });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    await loading.catch(() => {});
    try {
      const response = await fetch(`http://127.0.0.1:${(http.address() as { port: number }).port}/ping`);
      expect(response.status).toBe(503);
      expect(errorResponseSchema.parse(await response.json()).error.message).toMatch(
        /failed to load.*nonexistent/,
      );
    } finally {
      await new Promise((resolve) => http.close(resolve));
    }
  });
});

describe('startModelServer', () => {
  it('rejects when the port is taken, leaving nothing running that keeps the process alive', async () => {
    // In a process of its own: a leftover inference worker thread shows only as the process never exiting.
    const script = join(await tempDir(), 'taken-port.mjs');
    await writeFile(
      script,
      `import { createServer } from 'node:http';
      import { startModelServer } from ${JSON.stringify(new URL('../src/server.ts', import.meta.url).href)};
      const taken = createServer();
      await new Promise((resolve) => taken.listen(0, '127.0.0.1', resolve));
      await startModelServer({ modelDir: ${JSON.stringify(modelDir)}, port: taken.address().port }).catch(
        (error) => console.log(error.code),
      );
      taken.close();`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 15_000 });
    expect(stdout.trim()).toBe('EADDRINUSE');
  }, 30_000);
});
