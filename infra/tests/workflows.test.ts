import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

// What the infrastructure workflows may touch. Anyone who can push a branch can run infra-plan.yml as they
// edited it, so what matters is what the plan role allows (deploy-permissions.test.ts); these checks keep the
// committed workflows from handing a pull request a secret anyway, and keep the security gate a gate.

interface Step {
  name?: string;
  'working-directory'?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  environment?: unknown;
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const repoRoot = join(__dirname, '..', '..');
const text = (file: string) => readFileSync(join(repoRoot, '.github', 'workflows', file), 'utf8');
const workflow = (file: string) => parse(text(file)) as Workflow;

const plan = workflow('infra-plan.yml');
const apply = workflow('infra-apply.yml');

describe('infra-plan.yml (pull requests)', () => {
  it('never reads a secret: no Azure key, no Terraform variable, no Azure login, no repository secret', () => {
    const yaml = text('infra-plan.yml');
    for (const never of [
      'primary_access_key',
      'TF_VAR_',
      'azure/login',
      'ARM_',
      'secrets.',
      'secretsmanager',
    ]) {
      expect({ never, found: yaml.includes(never) }).toEqual({ never, found: false });
    }
  });

  it('plans the AWS platform only, with the plan role', () => {
    const steps = Object.values(plan.jobs).flatMap((job) => job.steps);
    const planned = steps.filter((s) => s.run?.includes('terraform plan'));
    expect(planned.map((s) => s.name)).toEqual(['Plan AWS platform']);
    const directories = steps.map((s) => s['working-directory']);
    expect(directories.filter((d) => d?.includes('azure-openai'))).toEqual([]);
    expect(planned.map((s) => s['working-directory'])).toEqual([
      'infra/cdktf.out/stacks/${{ matrix.env }}-aws-platform',
    ]);
    const roles = steps.map((s) => s.with?.['role-to-assume']).filter(Boolean);
    expect(roles).toEqual(['${{ steps.target.outputs.plan_role_arn }}']);
  });
});

describe('infra-apply.yml (approved environments)', () => {
  it('copies the Azure key into its secret only in the job of a GitHub environment, masked', () => {
    const [jobName, job] = Object.entries(apply.jobs).find(([, j]) =>
      j.steps.some((s) => s.run?.includes('put-secret-value')),
    )!;
    expect({ jobName, environment: job.environment }).toEqual({ jobName, environment: '${{ matrix.env }}' });
    const copy = job.steps.find((s) => s.run?.includes('put-secret-value'))!;
    const script = copy.run!;
    // Masked before anything else happens, never echoed, never on a command line.
    expect(script.indexOf('::add-mask::$AZURE_KEY')).toBeGreaterThan(-1);
    expect(script.indexOf('::add-mask::$AZURE_KEY')).toBeLessThan(script.indexOf('get-secret-value'));
    const echoing = script
      .split('\n')
      .filter((line) => /\becho\b/.test(line) && /\$\{?(AZURE_KEY|CURRENT)\b/.test(line));
    expect(echoing.map((line) => line.trim())).toEqual(['echo "::add-mask::$AZURE_KEY"']);
    expect(script).not.toMatch(/--secret-string/);
    expect(copy.env?.SECRET_ID).toBe('${{ steps.target.outputs.azure_key_secret }}');
    // Only when it changed.
    expect(script).toMatch(/if \[ "\$CURRENT" = "\$AZURE_KEY" \]/);
  });

  it('gives Terraform no variable on the AWS side', () => {
    expect(text('infra-apply.yml')).not.toContain('TF_VAR_');
  });
});

describe('the security gate', () => {
  const trivySteps = (w: Workflow) =>
    Object.values(w.jobs)
      .flatMap((job) => job.steps)
      .filter((s) => s.uses?.startsWith('aquasecurity/trivy-action@'));

  it.each([
    ['infra-plan.yml', plan],
    ['infra-apply.yml', apply],
  ])('%s fails on any HIGH or CRITICAL finding of Trivy’s config scan of every stack', (file, w) => {
    const [gate, ...others] = trivySteps(w);
    expect(others).toEqual([]);
    // Pinned by commit: the action's tags were once rewritten to a malicious commit.
    expect(gate?.uses).toMatch(/^aquasecurity\/trivy-action@[0-9a-f]{40}$/);
    expect(gate?.with).toEqual({
      version: expect.stringMatching(/^v\d+\.\d+\.\d+$/),
      'scan-type': 'config',
      'scan-ref': 'infra/cdktf.out/stacks',
      severity: 'HIGH,CRITICAL',
      'exit-code': '1',
      trivyignores: 'infra/.trivyignore',
      'hide-progress': true,
    });
    expect(text(file)).not.toMatch(/tfsec-action/);
  });

  it('leaves out only the two checks decided on, each with its reason', () => {
    const lines = readFileSync(join(__dirname, '..', '.trivyignore'), 'utf8').split('\n');
    const ids = lines.filter((line) => line.trim() && !line.startsWith('#'));
    expect(ids).toEqual(['AWS-0132', 'AVD-AWS-0132', 'AWS-0057', 'AVD-AWS-0057']);
    for (const id of ['AWS-0132', 'AWS-0057']) {
      expect(lines[lines.indexOf(id) - 1]).toMatch(/^# /);
    }
  });
});
