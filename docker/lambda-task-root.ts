import { execFile, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

// A Lambda image's task root (/var/task), laid out the way docker/api.Dockerfile and worker.Dockerfile lay
// it out, from the package's real `build`, and its handlers invoked the way the Lambda runtime invokes
// them: for the image tests (services/*/tests/image.test.ts), which cannot build the images themselves.

/** A package's `build` script: `node ../../scripts/bundle.ts <entry> <outdir>`, read from its package.json. */
export interface BuildScript {
  bundler: string;
  entry: string;
  /** Where `pnpm build` writes the bundle, relative to the package (what the Dockerfile copies). */
  outdir: string;
}

export function readBuildScript(packageDir: string): BuildScript {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  const words = manifest.scripts?.build?.split(/\s+/) ?? [];
  const [node, bundler, entry, outdir] = words;
  if (node !== 'node' || !bundler?.endsWith('scripts/bundle.ts') || !entry || !outdir || words.length !== 4) {
    throw new Error(`${packageDir}: build is not \`node …/scripts/bundle.ts <entry> <outdir>\``);
  }
  return { bundler, entry, outdir };
}

export interface TaskRoot {
  /** The task root: the bundle, its package.json and node_modules with the native packages only. */
  dir: string;
  /** The package.json the build wrote (what `npm install` reads in the Dockerfile). */
  manifest: { type?: string; dependencies: Record<string, string> };
  /** The build's own output line. */
  buildLog: string;
  remove(): void;
}

/**
 * Runs the package's build with a temporary folder as its outdir, then makes the native packages its
 * package.json names resolvable from the task root (linked to the workspace's copies, as `npm install`
 * would put them there in the image). Nothing else is resolvable: the folder is outside the repository.
 */
export function buildTaskRoot(packageDir: string): TaskRoot {
  const script = readBuildScript(packageDir);
  const base = mkdtempSync(join(tmpdir(), 'mcv-task-root-'));
  const dir = join(base, 'task');
  const build = spawnSync(process.execPath, [script.bundler, script.entry, dir], {
    cwd: packageDir,
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`build failed (${build.status}):\n${build.stderr}${build.stdout}`);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as TaskRoot['manifest'];
  for (const name of Object.keys(manifest.dependencies)) {
    const link = join(dir, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(realpathSync(join(packageDir, 'node_modules', name)), link, 'dir');
  }
  return {
    dir,
    manifest,
    buildLog: build.stdout.trim(),
    remove: () => rmSync(base, { recursive: true, force: true }),
  };
}

/** The file the Lambda runtime loads for a handler `<module>.<export>`: the first of .js, .mjs, .cjs. */
export function handlerFile(taskRoot: string, handler: string): { file: string; exportName: string } {
  const dot = handler.lastIndexOf('.');
  const module = handler.slice(0, dot);
  const exportName = handler.slice(dot + 1);
  const file = ['.js', '.mjs', '.cjs'].map((ext) => join(taskRoot, `${module}${ext}`)).find(existsSync);
  if (dot < 1 || !file) throw new Error(`no module for handler ${handler} in ${taskRoot}`);
  return { file, exportName };
}

export type Outcome = { result: unknown } | { error: { name: string; message: string } };

export interface Invocation {
  /** What the handler's module exports. */
  exports: string[];
  /** One per event, in order. */
  outcomes: Outcome[];
  /** Everything the process wrote (Powertools logs are JSON lines on stdout). */
  stdout: string;
  stderr: string;
}

// Runs in the child: loads the handler's module, invokes it once per event, writes what happened.
const driver = `
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [file, exportName, eventsFile, outFile] = process.argv.slice(2);
const module = await import(pathToFileURL(file).href);
const context = {
  functionName: 'image-test', functionVersion: '$LATEST', memoryLimitInMB: '1024',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:image-test',
  awsRequestId: 'image-test-request', logGroupName: '/aws/lambda/image-test', logStreamName: 'image-test',
  getRemainingTimeInMillis: () => 30000,
};
const outcomes = [];
for (const event of JSON.parse(readFileSync(eventsFile, 'utf8'))) {
  try {
    outcomes.push({ result: await module[exportName](event, context) });
  } catch (error) {
    outcomes.push({ error: { name: error.name, message: error.message } });
  }
}
writeFileSync(outFile, JSON.stringify({ exports: Object.keys(module), outcomes }));
`;

/**
 * Invokes `handler` (as the Dockerfile's CMD names it) with each event in turn, in one Node process whose
 * working directory is the task root and whose environment is `env` alone (plus PATH), as a cold-started
 * Lambda execution environment would.
 */
export async function invoke(
  taskRoot: string,
  handler: string,
  events: unknown[],
  env: Record<string, string>,
): Promise<Invocation> {
  const { file, exportName } = handlerFile(taskRoot, handler);
  const work = mkdtempSync(join(tmpdir(), 'mcv-invoke-'));
  try {
    const driverFile = join(work, 'driver.mjs');
    const eventsFile = join(work, 'events.json');
    const outFile = join(work, 'out.json');
    writeFileSync(driverFile, driver);
    writeFileSync(eventsFile, JSON.stringify(events));
    const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number }>(
      (resolve) => {
        execFile(
          process.execPath,
          [driverFile, file, exportName, eventsFile, outFile],
          { cwd: taskRoot, env: { PATH: process.env.PATH ?? '', ...env }, maxBuffer: 64 * 1024 * 1024 },
          (error, out, err) =>
            resolve({ stdout: out, stderr: err, code: error ? Number(error.code ?? 1) : 0 }),
        );
      },
    );
    if (code !== 0) throw new Error(`the handler's process failed (${code}):\n${stderr}`);
    const { exports, outcomes } = JSON.parse(readFileSync(outFile, 'utf8')) as Pick<
      Invocation,
      'exports' | 'outcomes'
    >;
    return { exports, outcomes, stdout, stderr };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The error loading the bundle's entry gives when every file the build wrote (the entry, its chunks, its
 * data files) is copied into an empty folder without node_modules: '' when it loads, which it must, since
 * the native packages are imported on first use.
 */
export function loadWithoutPackages(taskRoot: string, handler: string): string {
  const { file } = handlerFile(taskRoot, handler);
  const bare = mkdtempSync(join(tmpdir(), 'mcv-bare-'));
  try {
    cpSync(taskRoot, bare, { recursive: true, filter: (source) => basename(source) !== 'node_modules' });
    const copy = join(bare, file.slice(taskRoot.length + 1));
    const load = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `await import(${JSON.stringify(copy)})`],
      {
        cwd: bare,
        env: { PATH: process.env.PATH ?? '' },
        encoding: 'utf8',
      },
    );
    return load.status === 0 ? '' : load.stderr;
  } finally {
    rmSync(bare, { recursive: true, force: true });
  }
}
