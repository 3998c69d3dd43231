// Pipelines against a local cloud (darknet-tiny): one at a time, then 20 clients each starting pipelines and
// polling every 200 ms, five times as often as the UI (every second). Every pipeline has a photo of its own
// (the same pixels, different bytes). The local cloud runs in this process, the clients on a worker thread
// (pipeline-clients.ts). The figures come from runs without the profiler; the CPU profile of this process's
// main thread in a shorter run after each shows what bounds them.
import { cpus } from 'node:os';
import { stealMeter } from '../cpu-steal.ts';
import { count, median, ms, percentile, perSecond, Report } from '../report.ts';
import { distinctPhoto, profiled, startBenchCloud, upload } from '../local-platform.ts';
import { runClients, type Outcome } from '../pipeline-clients.ts';

const sequential = Number(process.env.BENCH_SEQUENTIAL_PIPELINES ?? 30);
const clients = 20;
const perClient = Number(process.env.BENCH_PIPELINES_PER_CLIENT ?? 12);
const pollMs = 200;
/** The profiled runs after the measured ones: long enough to sample, short so the whole run stays short. */
const profiledSequential = 10;
const profiledPerClient = 5;
/** One at a time, the client polls often enough to see the end within a few ms, not so often it slows it. */
const alonePollMs = 25;
/** A pipeline not finished this long after it started is counted lost. */
const lostAfterMs = 60_000;

const report = new Report(
  'pipelines',
  'Pipelines on the local cloud',
  `Upload → POST /v1/pipelines → poll GET /v1/pipelines/{id} until the execution ends, against \`startLocalCloud\` ` +
    `with darknet-tiny, each pipeline with its own photo: ${sequential} one at a time (polling every ${alonePollMs} ms), then ` +
    `${clients} clients × ${perClient} pipelines polling every ${pollMs} ms; the profiles come from shorter runs ` +
    `after each (${profiledSequential} one at a time, ${clients} × ${profiledPerClient}), so the profiler's ` +
    `sampling does not slow the figures.`,
);
const starting = performance.now();
const cloud = await startBenchCloud();
const startedMs = performance.now() - starting;
try {
  const keys: string[] = [];
  const photos = sequential + profiledSequential + clients * (perClient + profiledPerClient) + 2;
  for (let n = 0; n < photos; n++) keys.push(await upload(cloud, distinctPhoto(n)));
  const run = (keysByClient: string[][], pollEveryMs: number) =>
    runClients({ url: cloud.url, apiKey: cloud.apiKey, keysByClient, pollEveryMs, lostAfterMs });
  // Warm-up: the first pipeline loads the providers and JIT-compiles the path.
  await run([keys.splice(0, 2)], alonePollMs);

  // The figures come from runs without the profiler, whose sampling slows the loop by a tenth or more; a shorter
  // run after each, profiled, shows where the time goes.
  const measured = async (keysByClient: string[][], pollEveryMs: number) => {
    const cpuBefore = process.cpuUsage();
    const loopBefore = performance.eventLoopUtilization();
    const stolen = stealMeter();
    const started = performance.now();
    const outcomes = await run(keysByClient, pollEveryMs);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const loop = performance.eventLoopUtilization(loopBefore);
    return { outcomes, seconds, cpuMs: (cpu.user + cpu.system) / 1000, loop, stolenPercent: stolen() };
  };
  const byClient = (taken: string[], perEach: number) =>
    Array.from({ length: clients }, (_, client) => taken.slice(client * perEach, (client + 1) * perEach));

  const aloneRun = await measured([keys.splice(0, sequential)], alonePollMs);
  const { value: aloneProfiled, profile: aloneProfile } = await profiled('pipelines-one-at-a-time', () =>
    run([keys.splice(0, profiledSequential)], alonePollMs),
  );
  const alone = aloneRun.outcomes;
  const aloneSeconds = aloneRun.seconds;

  const loadRun = await measured(byClient(keys.splice(0, clients * perClient), perClient), pollMs);
  const { value: togetherProfiled, profile } = await profiled(`pipelines-${clients}-clients`, () =>
    run(byClient(keys.splice(0, clients * profiledPerClient), profiledPerClient), pollMs),
  );
  const together = loadRun.outcomes;
  const loadSeconds = loadRun.seconds;
  const cpuPercent = (loadRun.cpuMs / 1000 / loadSeconds) * 100;
  const profiledFailures = [...aloneProfiled, ...togetherProfiled].filter((o) => o.status !== 'SUCCEEDED');

  // What one poll costs the loop, alone: GET /v1/pipelines/{id} of a finished pipeline (the API request, its
  // GetExecutionHistory, its DynamoDB GetItem), one after the other.
  const finishedId = together.find((o) => o.status === 'SUCCEEDED')?.executionId ?? '';
  const pollsTimed = 100;
  const pollsStarted = performance.now();
  for (let n = 0; n < pollsTimed; n++)
    await (await cloud.api(`/v1/pipelines/${encodeURIComponent(finishedId)}`)).arrayBuffer();
  const onePollMs = (performance.now() - pollsStarted) / pollsTimed;

  const summary = (outcomes: Outcome[], seconds: number) => {
    const ok = outcomes.filter((o) => o.status === 'SUCCEEDED');
    const observed = ok.map((o) => o.observedMs);
    const execution = ok.map((o) => o.executionMs);
    return {
      ok,
      throughput: ok.length / seconds,
      lost: outcomes.filter((o) => o.status === 'LOST').length,
      failed: outcomes.length - ok.length - outcomes.filter((o) => o.status === 'LOST').length,
      row: (label: string) => [
        label,
        count(outcomes.length),
        perSecond(ok.length / seconds),
        ms(percentile(observed, 50), 0),
        ms(percentile(observed, 95), 0),
        ms(percentile(observed, 99), 0),
        ms(median(execution), 0),
        ms(percentile(execution, 95), 0),
        count(outcomes.filter((o) => o.status === 'LOST').length),
        count(outcomes.length - ok.length - outcomes.filter((o) => o.status === 'LOST').length),
      ],
    };
  };
  const one = summary(alone, aloneSeconds);
  const many = summary(together, loadSeconds);
  report.table(
    'Pipelines (latency as the client sees it: start request → finished status polled; execution: its own start → stop)',
    ['', 'pipelines', 'throughput', 'p50', 'p95', 'p99', 'execution p50', 'execution p95', 'lost', 'failed'],
    [
      one.row(`one at a time, polling every ${alonePollMs} ms`),
      many.row(`${clients} clients, polling every ${pollMs} ms`),
    ],
  );
  // Where a pipeline's time goes, from what the client saw: its start request until the execution starts, each
  // step (the last poll's steps), and from the execution's end until a poll saw it.
  const stepNames = [...new Set(one.ok.flatMap((o) => Object.keys(o.stepMs ?? {})))];
  const parts = (outcomes: Outcome[]) => [
    median(outcomes.map((o) => o.startDelayMs ?? 0)),
    ...stepNames.map((name) => median(outcomes.map((o) => o.stepMs?.[name] ?? 0))),
    median(outcomes.map((o) => o.seenAfterMs ?? 0)),
  ];
  const aloneParts = parts(one.ok);
  report.table(
    "Where a pipeline's time goes (p50 of each part; the steps as the last poll reported them, the two describes run in parallel)",
    ['', 'start request → execution starts', ...stepNames, 'execution ends → a poll sees it'],
    [
      [`one at a time, polling every ${alonePollMs} ms`, ...aloneParts.map((v) => ms(v, 0))],
      [`${clients} clients, polling every ${pollMs} ms`, ...parts(many.ok).map((v) => ms(v, 0))],
    ],
  );
  report.note(
    `startLocalCloud (darknet-tiny, a fresh data folder) took ${(startedMs / 1000).toFixed(1)} s to come up.`,
  );
  report.table(
    `Where the main thread's CPU went under ${clients} clients (a profiled run of ${clients} × ${profiledPerClient} pipelines after the measured one, ${(profile.totalMs / 1000).toFixed(1)} s sampled; the measured run's process CPU ${cpuPercent.toFixed(0)}% of one core, ${cpus().length} cores)`,
    ['package (Node’s own code and native calls counted for the package that made them)', 'ms', 'share'],
    profile.byArea.map(([area, spent]) => [
      area,
      spent.toFixed(0),
      `${((spent / profile.totalMs) * 100).toFixed(1)}%`,
    ]),
  );
  report.table(
    'Busiest functions (self time)',
    ['function', 'ms'],
    profile.functions.map(([name, spent]) => [name, spent.toFixed(0)]),
  );
  // A share of the profile under load, in per cent.
  const share = (match: (area: string) => boolean) =>
    (profile.byArea.filter(([area]) => match(area)).reduce((sum, [, spent]) => sum + spent, 0) /
      profile.totalMs) *
    100;
  // The loop's idle share from the measured runs (not the profiled ones, whose sampling keeps it busier).
  const aloneIdle = (1 - aloneRun.loop.utilization) * 100;
  const idle = (1 - loadRun.loop.utilization) * 100;
  const sdk = share((area) => /^@(smithy|aws-sdk|aws-crypto)\//.test(area));
  const stepFunctions = share(
    (area) =>
      area.includes('step-functions') || area.includes('aws-json') || area === 'aws-local-stepfunctions',
  );
  // CPU of every thread of this process per pipeline: what bounds throughput however the work is spread.
  const cpuMsPerPipeline = loadRun.cpuMs / Math.max(1, many.ok.length);
  // The event loop's busy time per pipeline: what one core can do is 1,000 ms ÷ this, whatever the clients do.
  const loopMsPerPipeline = loadRun.loop.active / Math.max(1, many.ok.length);
  const cpuCeiling = (cpus().length * 1000) / cpuMsPerPipeline;
  const others = profile.byArea
    .filter(
      ([area]) =>
        !/^@(smithy|aws-sdk)\//.test(area) &&
        !area.includes('step-functions') &&
        area !== '(idle)' &&
        !area.includes('aws-json'),
    )
    .slice(0, 5)
    .map(([area, spent]) => `${area} ${((spent / profile.totalMs) * 100).toFixed(0)}%`)
    .join(', ');
  const loopCeiling = 1000 / loopMsPerPipeline;
  const bound =
    `The main event loop runs the API, Step Functions, the tasks and the LLM emulators (inference runs on the ` +
    `model server's thread, DynamoDB, S3 and SNS on the storage thread). Under ${clients} clients it is idle ` +
    `${idle.toFixed(0)}% of the time and busy ${loopMsPerPipeline.toFixed(0)} ms per pipeline (at most ` +
    `${loopCeiling.toFixed(0)}/s; 30/s leaves 33 ms), and the whole process (every thread: the loop, storage, ` +
    `inference, the clients, the garbage collector, file writes) used ${cpuPercent.toFixed(0)}% of one of ` +
    `${cpus().length} cores, ${cpuMsPerPipeline.toFixed(0)} ms of CPU per pipeline: even spread evenly over ` +
    `${cpus().length} cores that tops out at ${cpuCeiling.toFixed(0)} pipelines/s (30/s needs at most ` +
    `${((cpus().length * 1000) / 30).toFixed(0)} ms a pipeline)` +
    (loadRun.stolenPercent === undefined
      ? '. '
      : `, and the machine's hypervisor gave ${loadRun.stolenPercent}% of its CPU time to other tenants ` +
        `meanwhile (steal time), time no thread here could run. `) +
    `The polls are a fixed share of it: ${clients} ` +
    `clients polling every ${pollMs} ms make ${((clients * 1000) / pollMs).toFixed(0)} polls/s, most of them of ` +
    `running pipelines (the API request and one GetExecutionHistory), and one poll of a finished pipeline ` +
    `(which also reads its record), alone and end to end, takes ${onePollMs.toFixed(1)} ms. The main loop's ` +
    `profile: the AWS SDK clients ${sdk.toFixed(0)}% (every call between components is an SDK request over ` +
    `loopback, serialized, signed, sent, parsed, and answered by an emulator in this process: the API's start ` +
    `(HeadObject, a DynamoDB claim, StartExecution) and one GetExecutionHistory a poll, Classify's S3 read ` +
    `(the describers take that version from the worker's memory), SageMaker, Bedrock, ApplyGuardrail, ` +
    `DynamoDB and SNS), the Step Functions emulator with its AWS ` +
    `JSON protocol layer ${stepFunctions.toFixed(0)}% (after each turn of the loop that changed an execution ` +
    `it appends what changed, of every execution, to its journal in one write, and it answers only once what ` +
    `it reports is on disk), then ${others}. ` +
    (cpuCeiling > loopCeiling * 1.15
      ? `The loop is the tighter bound: ` +
        (cpuCeiling >= 30
          ? `the CPU would allow 30/s; what bounds the throughput is the share of the work that runs on the ` +
            `one loop, and a part moved to a thread of its own costs a heap and messages between threads.`
          : `more of its work on another thread could come closer to the CPU ceiling, but 30/s takes less ` +
            `work a pipeline, that is fewer calls between components.`)
      : `The two bounds are close: going past them takes less work a pipeline, that is fewer calls between ` +
        `components, not another thread.`);
  report.target(`${clients} clients: pipelines/s sustained`, many.throughput, 30, perSecond, {
    atLeast: true,
    evidence: bound,
  });
  report.target(
    `${clients} clients: p95 latency`,
    percentile(
      many.ok.map((o) => o.observedMs),
      95,
    ),
    1_000,
    (v) => ms(v, 0),
    {
      evidence: bound,
    },
  );
  report.target(
    `${clients} clients: lost or failed pipelines`,
    many.lost + many.failed + profiledFailures.length,
    0,
    count,
  );
  report.target(
    'one at a time: p50 latency',
    percentile(
      one.ok.map((o) => o.observedMs),
      50,
    ),
    100,
    (v) => ms(v, 0),
    {
      evidence:
        `The execution itself takes ${ms(median(one.ok.map((o) => o.executionMs)), 0)} (p50) of it; the start ` +
        `request until the execution starts (the API's HeadObject, DynamoDB claim and StartExecution) ` +
        `${ms(aloneParts[0]!, 0)}, and its end until the next poll (every ${alonePollMs} ms, each an API request ` +
        `and a history read, the last one the record too) sees it ${ms(aloneParts.at(-1)!, 0)}; by step (p50): ` +
        `${stepNames.map((name, i) => `${name} ${ms(aloneParts[i + 1]!, 0)}`).join(', ')}, Classify's including ` +
        `the inference (see the classifier benchmark). With one ` +
        `pipeline at a time the event loop is idle ${aloneIdle.toFixed(0)}% of the time: ` +
        (aloneIdle >= 50
          ? 'most of a pipeline is waiting (on inference, on the model server’s thread, and on file writes), not computing. '
          : 'most of a pipeline is computing on it. ') +
        `What it computes: ${aloneProfile.byArea
          .filter(([area]) => area !== '(idle)')
          .slice(0, 6)
          .map(([area, spent]) => `${area} ${((spent / aloneProfile.totalMs) * 100).toFixed(0)}%`)
          .join(', ')}.`,
    },
  );
  report.note(
    'The profile samples the main thread of this process, which runs the API, the Step Functions emulator, ' +
      'the worker tasks and the LLM emulators; DynamoDB, S3 and SNS run on the storage thread, the clients on ' +
      'a worker thread, inference on the model server’s worker thread and file writes on libuv’s pool, outside it.',
  );
} finally {
  await cloud.close();
}
report.finish();
