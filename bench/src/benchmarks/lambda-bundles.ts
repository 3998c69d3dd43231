// The API and worker Lambda bundles against a bare Express + @codegenie/serverless-express bundle, all three
// built by scripts/bundle.ts in this run: their sizes (what loads at start, everything written) and their
// cold start, each in fresh Node processes taking turns: module load (`import()` of index.mjs) and the first
// answer (module load, the handler's set-up and one invocation that needs no other service).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundle, type BundleResult } from '../../../scripts/bundle.ts';
import { repoRoot } from '../paths.ts';
import { count, median, megabytes, ms, percentile, ratio, Report } from '../report.ts';

const rounds = Number(process.env.BENCH_COLD_STARTS ?? 25);

interface Contender {
  name: string;
  packageDir: string;
  entry: string;
  outdir: string;
  handler: string;
  /** The one invocation of the first answer. */
  event: unknown;
  /** Targets: total bytes of the bundle's files. */
  maxTotalBytes?: number;
}

const httpEvent = (path: string) => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: path,
  rawQueryString: '',
  headers: { host: 'bench.example', accept: 'application/json' },
  requestContext: {
    accountId: '123456789012',
    apiId: 'bench',
    domainName: 'bench.example',
    domainPrefix: 'bench',
    http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'bench' },
    requestId: 'bench',
    routeKey: '$default',
    stage: '$default',
    time: new Date().toUTCString(),
    timeEpoch: Date.now(),
  },
  isBase64Encoded: false,
});

const contenders: Contender[] = [
  {
    name: 'bare Express + serverless-express',
    packageDir: join(repoRoot, 'bench'),
    entry: 'src/bare-lambda.ts',
    outdir: 'dist/bare',
    handler: 'handler',
    event: httpEvent('/hello'),
  },
  {
    name: 'API (services/api)',
    packageDir: join(repoRoot, 'services', 'api'),
    entry: 'src/lambda.ts',
    outdir: 'dist/api',
    handler: 'handler',
    event: httpEvent('/openapi.json'),
    maxTotalBytes: 2_500_000,
  },
  {
    name: 'worker (services/worker)',
    packageDir: join(repoRoot, 'services', 'worker'),
    entry: 'src/lambda.ts',
    outdir: 'dist/worker',
    handler: 'ingestHandler',
    event: {
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          eventTime: new Date().toISOString(),
          s3: { bucket: { name: 'bench' }, object: { key: 'images/bench.jpeg', size: 1, eTag: 'e' } },
        },
      ],
    },
    maxTotalBytes: 1_500_000,
  },
];

// Runs in a fresh process: times the import, then the first invocation; prints both as JSON.
const driver = `
import { pathToFileURL } from 'node:url';
const [file, exportName, event] = process.argv.slice(2);
const started = performance.now();
const module = await import(pathToFileURL(file).href);
const loaded = performance.now();
const context = { awsRequestId: 'bench', functionName: 'bench', getRemainingTimeInMillis: () => 30000 };
const answer = await module[exportName](JSON.parse(event), context);
const answered = performance.now();
if (answer && answer.statusCode && answer.statusCode !== 200) throw new Error('answered ' + answer.statusCode);
console.log(JSON.stringify({ loadMs: loaded - started, firstAnswerMs: answered - started }));
`;

const environment = {
  PATH: process.env.PATH ?? '',
  // What the handlers need to set themselves up outside the cloud; no call reaches another service.
  API_KEY: 'bench-key-0123456789abcdef',
  AWS_REGION: 'us-east-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_TRACE_ENABLED: 'false',
};

function coldStart(driverFile: string, built: BundleResult, contender: Contender) {
  return new Promise<{ loadMs: number; firstAnswerMs: number }>((resolve, reject) => {
    execFile(
      process.execPath,
      [driverFile, built.outfile, contender.handler, JSON.stringify(contender.event)],
      { cwd: join(contender.packageDir, contender.outdir), env: environment },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${contender.name}: ${stderr || error.message}`));
        else
          resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as { loadMs: number; firstAnswerMs: number });
      },
    );
  });
}

const report = new Report(
  'lambda-bundles',
  'Lambda bundles: size and cold start',
  'The API and worker bundles against a bare Express + @codegenie/serverless-express bundle with one JSON ' +
    `route, all three built by scripts/bundle.ts in this run; cold starts in ${rounds} fresh Node processes each, taking turns.`,
);

const built = new Map<Contender, BundleResult>();
for (const contender of contenders) {
  built.set(contender, await bundle(contender.packageDir, contender.entry, contender.outdir));
}

const work = mkdtempSync(join(tmpdir(), 'mcv-bench-cold-'));
const driverFile = join(work, 'driver.mjs');
writeFileSync(driverFile, driver);
const times = new Map<Contender, { loadMs: number[]; firstAnswerMs: number[] }>(
  contenders.map((c) => [c, { loadMs: [], firstAnswerMs: [] }]),
);
try {
  for (const contender of contenders) await coldStart(driverFile, built.get(contender)!, contender); // file cache
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? [...contenders].reverse() : contenders;
    for (const contender of order) {
      const { loadMs, firstAnswerMs } = await coldStart(driverFile, built.get(contender)!, contender);
      times.get(contender)!.loadMs.push(loadMs);
      times.get(contender)!.firstAnswerMs.push(firstAnswerMs);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const bare = contenders[0]!;
const bareLoad = median(times.get(bare)!.loadMs);
const bareAnswer = median(times.get(bare)!.firstAnswerMs);
report.table(
  'Bundle sizes (source maps apart)',
  ['bundle', 'loaded at start', 'all files', 'files'],
  contenders.map((c) => {
    const b = built.get(c)!;
    return [c.name, megabytes(b.initialBytes), megabytes(b.totalBytes), count(b.files)];
  }),
);
report.table(
  `Cold start, median of ${rounds} fresh processes (p90 in brackets)`,
  ['bundle', 'module load', '÷ bare', 'first answer', '÷ bare'],
  contenders.map((c) => {
    const t = times.get(c)!;
    return [
      c.name,
      `${ms(median(t.loadMs))} (${ms(percentile(t.loadMs, 90))})`,
      ratio(median(t.loadMs) / bareLoad),
      `${ms(median(t.firstAnswerMs))} (${ms(percentile(t.firstAnswerMs, 90))})`,
      ratio(median(t.firstAnswerMs) / bareAnswer),
    ];
  }),
);
for (const contender of contenders.slice(1)) {
  const b = built.get(contender)!;
  const top = b.initialByPackage
    .slice(0, 8)
    .map(([name, bytes]) => `${name} ${(bytes / 1000).toFixed(0)} KB`)
    .join(', ');
  report.table(
    `${contender.name}: the largest parts of what loads at start`,
    ['package', 'KB'],
    b.initialByPackage.slice(0, 12).map(([name, bytes]) => [name, (bytes / 1000).toFixed(0)]),
  );
  const short = contender.name.split(' ')[0]!;
  report.target(
    `${short} bundle: module load ÷ bare bundle`,
    median(times.get(contender)!.loadMs) / bareLoad,
    2,
    ratio,
    {
      evidence:
        `V8 compiles everything that loads at start before the first line runs (compileSourceTextModule is the ` +
        `largest item of a --cpu-prof of the load), so module load follows those bytes: ` +
        `${megabytes(b.initialBytes)} against the bare bundle's ${megabytes(built.get(bare)!.initialBytes)}. Largest: ${top}.`,
    },
  );
  report.target(
    `${short} bundle: what loads before the first request`,
    b.initialBytes,
    1_000_000,
    megabytes,
    {
      evidence: `Largest parts: ${top}.`,
    },
  );
  report.target(`${short} bundle: all its files`, b.totalBytes, contender.maxTotalBytes!, megabytes);
}
report.note(
  'Module load is `await import(index.mjs)` in a fresh process; the first answer adds the handler setting ' +
    'itself up (configuration, clients) and one invocation that needs no other service: `GET /hello` (bare), ' +
    '`GET /openapi.json` (API), an S3 ObjectCreated event for the ingest handler (worker). Chunks loaded on ' +
    'first use (provider clients, the SageMaker control plane for /health, data files such as iconv-lite’s ' +
    'CJK tables) count in “all files” only.',
);
report.finish();
