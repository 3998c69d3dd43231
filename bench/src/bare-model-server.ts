// The classifier benchmark's bare baseline for HTTP: a node:http server in a process of its own that does what
// the model server does around an inference and nothing else. It reads the POSTed body, hands it to a worker
// thread, which computes (a busy loop, a core taken as inference takes one) for as many milliseconds as the
// request's `x-compute-ms` says, and answers a fixed small JSON with the time the worker really spent in
// `x-computed-ms`; with `x-compute-on: event-loop` it computes on its event loop instead (no hand-off, the loop
// never idles). Round trip − computed = what HTTP, a second process and the thread hand-off cost here.
// Started by bench/src/benchmarks/classifier.ts with PORT; prints "listening" once it is, and exits when the
// benchmark does (its stdin closes) or on SIGTERM.
import { createServer, type ServerResponse } from 'node:http';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

type Job = { id: number; bytes: Uint8Array; computeMs: number };
type Done = { id: number; computedMs: number };

if (isMainThread) {
  const worker = new Worker(new URL(import.meta.url));
  const waiting = new Map<number, (computedMs: number) => void>();
  worker.on('message', ({ id, computedMs }: Done) => {
    waiting.get(id)?.(computedMs);
    waiting.delete(id);
  });
  let nextId = 0;
  const answer = JSON.stringify({ model: 'bare', labels: [{ label: 'bare', score: 1 }] });
  const send = (res: ServerResponse, computedMs: number) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(answer),
      'x-computed-ms': String(computedMs),
    });
    res.end(answer);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const computeMs = Number(req.headers['x-compute-ms']) || 0;
      if (req.headers['x-compute-on'] === 'event-loop') {
        const started = performance.now();
        while (performance.now() - started < computeMs) {
          // busy on the event loop itself: no hand-off, no idle spell
        }
        return send(res, performance.now() - started);
      }
      const id = nextId++;
      waiting.set(id, (computedMs) => send(res, computedMs));
      // Handed over as the model server hands over an image: one copy, its buffer transferred.
      const bytes = new Uint8Array(Buffer.concat(chunks));
      const job: Job = { id, bytes, computeMs };
      worker.postMessage(job, [bytes.buffer]);
    });
  });
  server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
  process.on('SIGTERM', () => process.exit(0));
  process.stdin.on('end', () => process.exit(0)).resume();
} else {
  parentPort!.on('message', ({ id, computeMs }: Job) => {
    const started = performance.now();
    while (performance.now() - started < computeMs) {
      // busy, as an inference is
    }
    parentPort!.postMessage({ id, computedMs: performance.now() - started } satisfies Done);
  });
}
