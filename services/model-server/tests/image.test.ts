import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { classifierResponseSchema } from '@mc-vision/core/schemas';
import {
  copiesOf,
  envOf,
  execForm,
  instructionsOf,
  readDockerfile,
  type CopyInstruction,
} from '../../../docker/dockerfile.ts';
import { repoRoot } from '../src/paths.ts';
import { modelDir, pelican, postImage, tempDir } from './helpers.ts';

// What docker/model-server.Dockerfile packages, without Docker: the folders its final stage keeps, copied as
// the image lays them out, and its ENTRYPOINT and CMD (`serve`, as SageMaker starts the container) run there.

const stages = readDockerfile(join(repoRoot, 'docker', 'model-server.Dockerfile'));
const image = stages.at(-1)!;
const build = stages.find((stage) => stage.name === 'build')!;
const workdir = (stage: typeof image) => instructionsOf(stage, 'WORKDIR').at(-1)?.args;
const entrypoint = execForm(instructionsOf(image, 'ENTRYPOINT').at(-1));
const cmd = execForm(instructionsOf(image, 'CMD').at(-1));

/** A COPY from the build stage as repository paths (the build stage copies the repository to its WORKDIR). */
function keptPath(copy: CopyInstruction): { source: string; destination: string } {
  const buildRoot = `${workdir(build)}/`;
  const [source, ...more] = copy.sources;
  if (copy.from !== 'build' || !source?.startsWith(buildRoot) || more.length > 0) {
    throw new Error(`COPY ${JSON.stringify(copy)}: not one path of the build stage's ${buildRoot}`);
  }
  return {
    source: source.slice(buildRoot.length).replace(/\/$/, ''),
    destination: copy.destination.replace(/^\.\//, '').replace(/\/$/, ''),
  };
}
const kept = copiesOf(image).map(keptPath);

/** The workspace packages a package needs at run time, itself included, as folders (`services/core`). */
function workspaceClosure(folder: string): string[] {
  const manifest = JSON.parse(readFileSync(join(repoRoot, folder, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const local = Object.entries(manifest.dependencies ?? {})
    .filter(([, version]) => version.startsWith('workspace:'))
    .map(([name]) => `services/${name.replace('@mc-vision/', '')}`);
  return [folder, ...local.flatMap(workspaceClosure)];
}

let imageRoot: string;
let server: ChildProcess;
let exited: Promise<number | null>;
const events: Record<string, unknown>[] = [];
let url: string;

beforeAll(async () => {
  // The image's /app: the kept folders copied (their node_modules are relative links into the root's
  // node_modules/.pnpm, kept as links), the root node_modules linked rather than copied (it is large).
  imageRoot = await tempDir();
  for (const { source, destination } of kept) {
    if (source === 'node_modules') symlinkSync(join(repoRoot, 'node_modules'), join(imageRoot, destination));
    else
      cpSync(join(repoRoot, source), join(imageRoot, destination), {
        recursive: true,
        verbatimSymlinks: true,
      });
  }
  const [command, ...args] = [...entrypoint!, ...cmd!];
  expect(command).toBe('node');
  server = spawn(process.execPath, args, {
    cwd: imageRoot,
    // The image's environment, but on loopback and a free port here; SageMaker mounts the model package.
    env: { PATH: process.env.PATH ?? '', ...envOf(image), HOST: '127.0.0.1', PORT: '0', MODEL_DIR: modelDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  exited = new Promise((resolve) => server.on('exit', resolve));
  url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: server.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as Record<string, unknown>;
      events.push(event);
      if (event.event === 'listening') resolve(event.url as string);
    });
    void exited.then((code) =>
      reject(new Error(`exited (${code}) before listening: ${JSON.stringify(events)}`)),
    );
  });
});

afterAll(() => {
  if (server?.exitCode === null) server.kill('SIGKILL');
});

describe('the model server image (docker/model-server.Dockerfile)', () => {
  it('runs Node.js 24 and starts as SageMaker starts it: `serve` on port 8080 of every interface', () => {
    for (const stage of stages) expect(stage.base).toMatch(/^public\.ecr\.aws\/docker\/library\/node:24[.-]/);
    expect(entrypoint).toEqual(['node', 'services/model-server/src/main.ts']);
    expect(cmd).toEqual(['serve']);
    expect(envOf(image)).toMatchObject({ HOST: '0.0.0.0', PORT: '8080' });
    expect(instructionsOf(image, 'EXPOSE').map((i) => i.args)).toEqual(['8080']);
    expect(workdir(image)).toBe(workdir(build));
  });

  it('installs the locked production dependencies of the model server, and keeps the folders it runs from', () => {
    const runs = instructionsOf(build, 'RUN').map((i) => i.args);
    expect(runs).toContainEqual(
      expect.stringContaining(
        'pnpm install --offline --frozen-lockfile --prod --filter @mc-vision/model-server...',
      ),
    );
    const folders = kept.map((k) => k.source).filter((source) => source !== 'node_modules');
    expect(folders.sort()).toEqual(workspaceClosure('services/model-server').sort());
    expect(kept.map((k) => k.source)).toContain('node_modules');
    for (const { source, destination } of kept) {
      expect(destination).toBe(source);
      expect(existsSync(join(repoRoot, source))).toBe(true);
    }
    expect(entrypoint![1]!.startsWith('services/model-server/')).toBe(true);
  });

  it('leaves local models, node_modules and secrets out of the build context', () => {
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['models', '**/node_modules', '**/.env']));
  });

  it('serves /ping and /invocations from the copy of what the image keeps, and stops on SIGTERM', async () => {
    expect((await fetch(`${url}/ping`)).status).toBe(200);
    const { status, body } = await postImage(`${url}/invocations`, pelican);
    expect(status).toBe(200);
    expect(classifierResponseSchema.parse(body).labels[0]?.label).toBe('pelican');

    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(events.map((event) => event.event)).toEqual(['listening', 'invocation', 'stopping']);
    expect(events[0]).toMatchObject({ modelDir });
  });
});
