import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const infraDir = join(__dirname, '..');
const tsx = join(infraDir, '..', 'node_modules', '.bin', 'tsx');

describe('pnpm synth', () => {
  it("writes every environment's three stacks as Terraform JSON", () => {
    const outdir = mkdtempSync(join(tmpdir(), 'mcv-synth-'));
    const run = spawnSync(tsx, ['src/main.ts'], {
      cwd: infraDir,
      env: { ...process.env, CDKTF_OUTDIR: outdir, IMAGE_TAG: 'sha-0123abc' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
      stacks: Record<string, { synthesizedStackPath: string }>;
    };
    expect(Object.keys(manifest.stacks).sort()).toEqual([
      'dev-aws-platform',
      'dev-azure-openai',
      'dev-state-backend',
      'prod-aws-platform',
      'prod-azure-openai',
      'prod-state-backend',
    ]);
    for (const stack of Object.values(manifest.stacks)) {
      expect(existsSync(join(outdir, stack.synthesizedStackPath))).toBe(true);
    }
    // The pipeline's image tag reaches the functions.
    const platform = readFileSync(
      join(outdir, manifest.stacks['prod-aws-platform']!.synthesizedStackPath),
      'utf8',
    );
    expect(platform).toContain(':sha-0123abc"');
  });
});
