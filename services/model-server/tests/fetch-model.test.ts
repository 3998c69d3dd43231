import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchModelPackage, resnet18 } from '../src/fetch-model.ts';
import type { ModelDownload } from '../src/fetch-model.ts';
import { loadModelPackage } from '../src/model-package.ts';
import { tempDir } from './helpers.ts';
import { bundledModelDir } from '@mc-vision/assets';

// The internet is out of reach: a loopback server plays Hugging Face (and its CDN redirect) with a small fake
// model file, pinned by its own checksum.

const fake = randomBytes(300_000);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
let server: Server;
let base: string;
let requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    switch (req.url) {
      case '/resolve/main/model.onnx':
        res.writeHead(302, { location: '/cdn/model.onnx' }).end();
        break;
      case '/cdn/model.onnx':
        res.writeHead(200, { 'content-length': fake.length }).end(fake);
        break;
      case '/tampered.onnx': {
        const tampered = Buffer.from(fake);
        tampered[1000]! ^= 1;
        res.writeHead(200, { 'content-length': tampered.length }).end(tampered);
        break;
      }
      case '/drops-mid-body.onnx':
        res.writeHead(200, { 'content-length': fake.length });
        res.write(fake.subarray(0, 100_000), () => setTimeout(() => res.socket?.destroy(), 20));
        break;
      case '/stalls.onnx':
        // The real file's size, a first megabyte, then nothing: a download someone interrupts.
        res.writeHead(200, { 'content-length': resnet18.bytes });
        res.write(Buffer.alloc(1_000_000));
        break;
      default:
        res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  requests = [];
});

const fakeDownload = (path = '/resolve/main/model.onnx'): ModelDownload => ({
  ...resnet18,
  url: `${base}${path}`,
  bytes: fake.length,
  manifest: { ...resnet18.manifest, sha256: sha256(fake) },
});

/** Nothing at the target and no partial folder next to it. */
async function expectNothingWritten(parent: string) {
  expect(await readdir(parent)).toEqual([]);
}

describe('the ResNet-18 download pinned in code', () => {
  it('has the zoo file’s size and sha256, its preprocessing and the 1000 ImageNet labels in order', () => {
    expect(resnet18.bytes).toBe(46_820_737);
    expect(resnet18.manifest.sha256).toBe('4e8f8653e7a2222b3904cc3fe8e304cd8b339ce1d05fd24688162f86fb6df52c');
    expect(resnet18.manifest.input).toMatchObject({
      name: 'data',
      resize: 'shorter-side',
      shorterSide: 256,
      width: 224,
      height: 224,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    });
    expect(resnet18.manifest.output).toEqual({ name: 'resnetv15_dense0_fwd', activation: 'softmax' });
    const { labels } = resnet18;
    expect(labels).toHaveLength(1000);
    expect([labels[0], labels[1], labels[22], labels[144], labels[207], labels[281], labels[999]]).toEqual([
      'tench',
      'goldfish',
      'bald eagle',
      'pelican',
      'golden retriever',
      'tabby',
      'toilet tissue',
    ]);
  });

  it('uses the same class names as darknet-tiny, so both models answer in the same words', async () => {
    const { labels: darknet } = await loadModelPackage(bundledModelDir);
    expect([...resnet18.labels].sort()).toEqual([...darknet].sort());
  });
});

describe('fetchModelPackage', () => {
  it('follows the redirect, verifies the file and writes a complete model package', async () => {
    const parent = await tempDir();
    const outDir = join(parent, 'resnet18-v1-7');
    const progress: number[] = [];
    const result = await fetchModelPackage(fakeDownload(), {
      outDir,
      onProgress: (received) => progress.push(received),
    });

    expect(result).toEqual({ dir: outDir, status: 'downloaded' });
    expect(requests).toEqual(['/resolve/main/model.onnx', '/cdn/model.onnx']);
    expect(progress.at(-1)).toBe(fake.length);
    expect(await readdir(parent)).toEqual(['resnet18-v1-7']);
    const pkg = await loadModelPackage(outDir);
    expect(pkg.manifest).toEqual({ ...resnet18.manifest, sha256: sha256(fake) });
    expect(pkg.labels).toEqual(resnet18.labels);
    expect(await readFile(pkg.modelPath)).toEqual(fake);
  });

  it('does not download again when a verified copy is there, and replaces it with force', async () => {
    const parent = await tempDir();
    const outDir = join(parent, 'resnet18-v1-7');
    await fetchModelPackage(fakeDownload(), { outDir });
    requests = [];
    expect(await fetchModelPackage(fakeDownload(), { outDir })).toMatchObject({ status: 'present' });
    expect(requests).toEqual([]);

    const before = (await stat(join(outDir, 'model.onnx'))).ino;
    expect(await fetchModelPackage(fakeDownload('/cdn/model.onnx'), { outDir, force: true })).toMatchObject({
      status: 'downloaded',
    });
    expect((await stat(join(outDir, 'model.onnx'))).ino).not.toBe(before);
    expect(await readdir(parent)).toEqual(['resnet18-v1-7']);
  });

  it('leaves nothing behind when the checksum does not match', async () => {
    const parent = await tempDir();
    const error = await fetchModelPackage(fakeDownload(), {
      outDir: join(parent, 'resnet18-v1-7'),
      url: `${base}/tampered.onnx`,
    }).then(
      () => new Error('expected a failure'),
      (caught: unknown) => caught as Error,
    );
    expect(error.message).toMatch(
      /checksum mismatch: .*tampered\.onnx has sha256 [0-9a-f]{64}, expected [0-9a-f]{64}/,
    );
    await expectNothingWritten(parent);
  });

  it('leaves nothing behind when the connection drops mid-body', async () => {
    const parent = await tempDir();
    const error = await fetchModelPackage(fakeDownload('/drops-mid-body.onnx'), {
      outDir: join(parent, 'resnet18-v1-7'),
    }).then(
      () => new Error('expected a failure'),
      (caught: unknown) => caught as Error,
    );
    expect(error.message).toMatch(/download interrupted after 100000 of 300000 bytes/);
    await expectNothingWritten(parent);
  });

  it('refuses HTTP errors and a file of the wrong size before writing anything', async () => {
    const parent = await tempDir();
    const outDir = join(parent, 'resnet18-v1-7');
    await expect(fetchModelPackage(fakeDownload('/gone.onnx'), { outDir })).rejects.toThrow(
      /answered HTTP 404/,
    );
    await expect(fetchModelPackage({ ...fakeDownload(), bytes: 1234 }, { outDir })).rejects.toThrow(
      /is 300000 bytes, expected 1234/,
    );
    await expectNothingWritten(parent);
  });

  it('keeps an existing folder that is not this model unless forced', async () => {
    const parent = await tempDir();
    const outDir = join(parent, 'resnet18-v1-7');
    await fetchModelPackage(fakeDownload(), { outDir });
    const other = { ...fakeDownload(), manifest: { ...resnet18.manifest, sha256: 'f'.repeat(64) } };
    await expect(fetchModelPackage(other, { outDir })).rejects.toThrow(
      /already exists and is not this model.*--force/,
    );
    expect((await loadModelPackage(outDir)).manifest.sha256).toBe(sha256(fake));
  });
});

describe('pnpm model:fetch (src/cli/fetch.ts)', () => {
  const cli = fileURLToPath(new URL('../src/cli/fetch.ts', import.meta.url));

  it('stops on Ctrl-C mid-download and removes the partial download', async () => {
    const parent = await tempDir();
    const outDir = join(parent, 'resnet18-v1-7');
    const child = spawn(process.execPath, [cli, '--url', `${base}/stalls.onnx`, '--out', outDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

    // Wait until the first megabyte is on disk in the partial folder.
    const partialBytes = async () => {
      const partial = (await readdir(parent)).find((entry) => entry.startsWith('.resnet18-v1-7.partial-'));
      const file = partial && join(parent, partial, 'model.onnx');
      return file && existsSync(file) ? (await stat(file)).size : 0;
    };
    for (let i = 0; i < 800 && (await partialBytes()) < 1_000_000; i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(await partialBytes()).toBe(1_000_000);

    child.kill('SIGINT');
    expect(await exited).toBe(1);
    expect(output).toMatch(/model:fetch failed: download interrupted after 1000000 of 46820737 bytes/);
    await expectNothingWritten(parent);
  });

  it('refuses a file that is not the pinned ResNet-18', async () => {
    const parent = await tempDir();
    const child = spawn(
      process.execPath,
      [cli, '--url', `${base}/cdn/model.onnx`, '--out', join(parent, 'm')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(1);
    expect(stderr).toMatch(/is 300000 bytes, expected 46820737/);
    await expectNothingWritten(parent);
  });
});
