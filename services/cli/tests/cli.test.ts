import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { photoVariants, startTestCloud, tempDir, type TestCloud } from '../../local-cloud/tests/support.ts';
import { runCli } from '../src/index.ts';

// mcv against the local platform: a folder with photos, a copy of one of them and a file that is no image.

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

let test: TestCloud;
beforeAll(async () => {
  test = await startTestCloud();
}, 60_000);
afterAll(() => test?.close(), 60_000);

async function mcv(args: string[]) {
  const out: string[] = [];
  let err = '';
  const code = await runCli(['--api', test.cloud.url, '--key', test.cloud.apiKey, ...args], {
    env: {},
    out: (line) => out.push(line),
    err: {
      write: (text: string) => {
        err += text;
        return true;
      },
    } as never,
  });
  return { code, out, err };
}

describe('mcv batch <folder>', () => {
  it('skips what is no image and a second copy, runs the rest as one batch, writes every result as JSONL', async () => {
    const folder = await tempDir('cli');
    const photos = await photoVariants(4);
    await Promise.all(photos.map((photo, index) => writeFile(join(folder, `photo-${index}.jpg`), photo)));
    await copyFile(join(folder, 'photo-1.jpg'), join(folder, 'photo-1 (copy).jpg'));
    await writeFile(join(folder, 'notes.txt'), 'the catalogue for spring\n');
    const out = join(folder, 'results.jsonl');

    const run = await mcv(['batch', folder, '--out', out, '--request-id', 'cli-folder']);
    expect(run.code).toBe(0);
    expect(run.out).toEqual([
      'skipping notes.txt: not a JPEG, PNG or WebP image',
      'skipping photo-1.jpg: the same photo as photo-1 (copy).jpg (sent once)',
      'uploaded 4 images',
      'batch cli-folder started',
      'batch cli-folder SUCCEEDED: 4 complete, 0 partial, 0 failed of 4',
      `results: ${out}`,
    ]);
    // The progress bar went to stderr: done/total, rate, ETA, failures.
    expect(run.err).toMatch(/batch \|.*\| 4\/4 done \| [\d.]+\/s \| ETA .* \| 0 failed/);

    const lines = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.file)).toEqual([
      'photo-0.jpg',
      'photo-1 (copy).jpg',
      'photo-2.jpg',
      'photo-3.jpg',
    ]);
    expect(lines[1].copies).toEqual(['photo-1.jpg']);
    for (const line of lines) {
      expect(line.status).toBe('complete');
      expect(line.record).toMatchObject({
        requestId: line.requestId,
        imageKey: line.key,
        batchId: 'cli-folder',
        status: 'complete',
      });
    }
    const status = await test.api.get('/v1/batches/cli-folder');
    expect(status.body.counts).toEqual({ total: 4, complete: 4, partial: 0, failed: 0, running: 0 });

    // Nothing failed: there is nothing to run again.
    const retry = await mcv(['retry', 'cli-folder']);
    expect(retry.code).toBe(1);
    expect(retry.err).toBe('mcv: batch cli-folder has no failed items\n');
  }, 300_000);

  it('says what is wrong, with a non-zero exit, when the folder has no images', async () => {
    const folder = await tempDir('cli-empty');
    await writeFile(join(folder, 'readme.md'), '# nothing here\n');
    const run = await mcv(['batch', folder]);
    expect(run.code).toBe(1);
    expect(run.err).toBe(`mcv: no images in ${folder}\n`);
  });
});

describe("the README's mcv lines", () => {
  it('run as written with pnpm from the repository root', async () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const section = readme.split(/^### From the command line \(mcv\)$/m)[1]!.split(/^##+ /m)[0]!;
    const script = [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((block) => block[1]).join('\n');
    expect(script).toContain('mcv batch');
    const results = join(repoRoot, 'mcv-results.jsonl');
    try {
      const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
        cwd: repoRoot,
        env: { ...process.env, MCV_API_URL: test.cloud.url, MCV_API_KEY: test.cloud.apiKey },
        timeout: 240_000,
      });
      expect(stdout).toContain('uploaded 2 images');
      expect(stdout).toMatch(/batch [0-9a-f-]{36} SUCCEEDED: 2 complete, 0 partial, 0 failed of 2/);
      expect(readFileSync(results, 'utf8').trim().split('\n')).toHaveLength(2);
      expect(stdout).toContain('"source": "analysis"');
      expect(stdout).toContain('"source": "pipeline"');
    } finally {
      if (existsSync(results)) await rm(results);
    }
  }, 300_000);
});
