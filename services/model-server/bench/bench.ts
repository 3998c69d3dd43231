import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { createClassifier } from '../src/classifier.ts';
import { loadModelPackage } from '../src/model-package.ts';
import { resolveUserPath } from '../src/paths.ts';
import { preprocessImage } from '../src/preprocess.ts';
import { fixtureImagesDir, testModelDir } from '@mc-vision/assets';

// `pnpm bench`: the model server against bare onnxruntime on the same images, in one run. MODEL_DIR picks the
// model (default darknet-tiny), BENCH_ITERATIONS the runs per image (default 40).

const modelDir = process.env.MODEL_DIR ? resolveUserPath(process.env.MODEL_DIR) : testModelDir;
const iterations = Number(process.env.BENCH_ITERATIONS ?? 40);
const coldStarts = 3;
const imagesDir = fixtureImagesDir;
const images = ['pelican.jpeg', 'bald-eagle.jpeg'].map((name) => ({
  name,
  bytes: readFileSync(join(imagesDir, name)),
}));
const mainScript = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const maxPixels = 40_000_000;

const pkg = await loadModelPackage(modelDir);
const { input, output } = pkg.manifest;
console.log(
  `model-server bench: ${pkg.manifest.name} (${modelDir}), ${images.length} images × ${iterations} runs, ` +
    `Node ${process.version}, ${availableParallelism()} CPUs\n`,
);

// ---- 1. bare onnxruntime: the tensor prepared beforehand, only session.run timed ----
const session = await ort.InferenceSession.create(pkg.modelPath, { graphOptimizationLevel: 'all' });
const tensors = await Promise.all(
  images.map((image) => preprocessImage(image.bytes, input, { maxImagePixels: maxPixels })),
);
const bare = await timeEach(async (i) => {
  const { tensor, dims } = tensors[i]!;
  await session.run({ [input.name]: new ort.Tensor('float32', tensor, dims) }, [output.name]);
});
await session.release();

// ---- 2. the classifier in process: decode + resize + inference worker + top-k, no HTTP ----
const classifier = await createClassifier(pkg);
const inProcess = await timeEach((i) => classifier.classify(images[i]!.bytes));
await classifier.close();

// ---- 3. cold start: process spawn → first /ping 200, a few times; the last server stays up ----
const starts: number[] = [];
let server: { child: ChildProcess; url: string } | undefined;
for (let i = 0; i < coldStarts; i++) {
  server?.child.kill('SIGTERM');
  const started = await startServer();
  starts.push(started.ms);
  server = started;
}
const { child, url } = server!;
const loadedMemory = readMemory(child.pid!);

try {
  // ---- 4. the server over HTTP ----
  const invoke = async (bytes: Uint8Array) => {
    const response = await fetch(`${url}/invocations`, { method: 'POST', body: bytes });
    if (response.status !== 200)
      throw new Error(`server answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  };
  const http = await timeEach((i) => invoke(images[i]!.bytes));

  // ---- 5. /ping while 4 clients keep the model busy ----
  const idlePings = await timePings(url, 50);
  let busy = true;
  const load = Array.from({ length: 4 }, async (_, client) => {
    for (let n = 0; busy; n++) await invoke(images[(client + n) % images.length]!.bytes);
  });
  const busyPings = await timePings(url, 50);
  busy = false;
  await Promise.all(load);

  // ---- 6. memory of the server process ----
  const memory = readMemory(child.pid!);

  // ---- report ----
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  table(
    ['per-image latency (ms)', 'p50', 'p95'],
    [
      ['bare onnxruntime session.run (tensor ready)', ms(pct(bare, 50)), ms(pct(bare, 95))],
      ['classify() in process (decode, resize, run, top-k)', ms(pct(inProcess, 50)), ms(pct(inProcess, 95))],
      ['server: HTTP POST /invocations', ms(pct(http, 50)), ms(pct(http, 95))],
      [
        'server overhead (HTTP ÷ bare session.run)',
        ratio(pct(http, 50), pct(bare, 50)),
        ratio(pct(http, 95), pct(bare, 95)),
      ],
    ],
  );
  table(
    ['GET /ping latency (ms)', 'p50', 'p95', 'max'],
    [
      ['idle', ms(pct(idlePings, 50)), ms(pct(idlePings, 95)), ms(Math.max(...idlePings))],
      [
        '4 clients invoking back to back',
        ms(pct(busyPings, 50)),
        ms(pct(busyPings, 95)),
        ms(Math.max(...busyPings)),
      ],
    ],
  );
  table(
    ['cold start: spawn node src/main.ts → /ping 200', 'median', 'runs'],
    [
      [
        'process start to model loaded',
        `${ms(pct(starts, 50), 0)} ms`,
        starts.map((s) => ms(s, 0)).join(', '),
      ],
    ],
  );
  table(
    ['server process memory', 'MB'],
    [
      [
        'RSS with the model loaded, before any request',
        loadedMemory ? mb(loadedMemory.now) : 'n/a (needs /proc)',
      ],
      ['peak RSS (VmHWM) after all the requests above', memory ? mb(memory.peak) : 'n/a (needs /proc)'],
    ],
  );
  const floats = input.width * input.height * 3;
  table(
    [
      'request bytes per image',
      'image body',
      `float JSON [1,3,${input.height},${input.width}]`,
      'JSON ÷ image',
    ],
    images.map((image, i) => {
      const json = Buffer.byteLength(JSON.stringify(nested(tensors[i]!.tensor, tensors[i]!.dims)));
      return [
        image.name,
        image.bytes.length.toLocaleString('en'),
        json.toLocaleString('en'),
        ratio(json, image.bytes.length),
      ];
    }),
  );
  console.log(
    `A PyTorch-container endpoint takes the ${floats.toLocaleString('en')} preprocessed floats as JSON; this server ` +
      'takes the encoded image and preprocesses it itself. SageMaker Serverless accepts at most 4 MB per request.',
  );
} finally {
  child.kill('SIGTERM');
}

// ---- helpers ----

/** Warm-up, then `iterations` timed runs per image, interleaved. */
async function timeEach(run: (image: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 3; i++) for (let image = 0; image < images.length; image++) await run(image);
  const times: number[] = [];
  for (let n = 0; n < iterations; n++) {
    for (let image = 0; image < images.length; image++) {
      const started = performance.now();
      await run(image);
      times.push(performance.now() - started);
    }
  }
  return times;
}

async function timePings(base: string, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(`${base}/ping`);
    await response.arrayBuffer();
    times.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return times;
}

async function startServer(): Promise<{ child: ChildProcess; url: string; ms: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, [mainScript, 'serve'], {
    env: { ...process.env, MODEL_DIR: modelDir, PORT: String(port), HOST: '127.0.0.1' },
    stdio: 'ignore',
  });
  const deadline = started + 60_000;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    const status = await fetch(`${url}/ping`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return { child, url, ms: performance.now() - started };
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  child.kill('SIGKILL');
  throw new Error('the server did not answer /ping with 200 within 60 s');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function readMemory(pid: number): { peak: number; now: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
    return { peak: kb('VmHWM'), now: kb('VmRSS') };
  } catch {
    return undefined;
  }
}

/** The tensor as the nested lists a JSON client sends (`tensor.tolist()`). */
function nested(data: Float32Array, dims: number[]): unknown {
  const build = (offset: number, level: number): unknown => {
    if (level === dims.length - 1) return Array.from(data.subarray(offset, offset + dims[level]!));
    const stride = dims.slice(level + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: dims[level]! }, (_, i) => build(offset + i * stride, level + 1));
  };
  return build(0, 0);
}

function pct(values: number[], percentile: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((percentile / 100) * sorted.length) - 1)]!;
}

function ms(value: number, digits = 1): string {
  return value.toFixed(digits);
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

function table(header: string[], rows: string[][]) {
  const widths = header.map((_, c) => Math.max(...[header, ...rows].map((row) => (row[c] ?? '').length)));
  const line = (row: string[]) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ');
  console.log(`${line(header)}\n${widths.map((w) => '─'.repeat(w)).join('───')}`);
  for (const row of rows) console.log(line(row));
  console.log();
}
