import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ciOutputs, imageSources, imageTagOf } from '../src/ci-env';
import { resourceNames } from '../src/names';
import { configOf } from './helpers';

const infraDir = join(__dirname, '..');
const workflowsDir = join(infraDir, '..', '.github', 'workflows');
const tsx = join(infraDir, '..', 'node_modules', '.bin', 'tsx');

const runCiEnv = (env: string, imageTag: string) =>
  spawnSync(tsx, ['src/ci-env.ts', env], {
    cwd: infraDir,
    env: { ...process.env, IMAGE_TAG: imageTag },
    encoding: 'utf8',
  });

describe('ci-env', () => {
  it('tells a workflow the roles, the registry and repositories, the model artifact, the image tag and the Azure key secret', () => {
    const run = runCiEnv('prod', 'a1b2c3d');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const config = configOf('prod');
    const names = resourceNames(config);
    expect(run.stdout.trim().split('\n')).toEqual([
      `aws_region=${names.region}`,
      `plan_role_arn=arn:aws:iam::${names.account}:role/${names.githubRole('plan')}`,
      `deploy_role_arn=arn:aws:iam::${names.account}:role/${names.githubRole('deploy')}`,
      'image_tag=a1b2c3d',
      `ecr_registry=${names.account}.dkr.ecr.${names.region}.amazonaws.com`,
      `ecr_repository_api=${names.repository('api')}`,
      `ecr_repository_worker=${names.repository('worker')}`,
      `ecr_repository_model_server=${names.repository('model-server')}`,
      `models_bucket=${names.modelsBucket}`,
      `model_artifact_key=${config.MODEL_ARTIFACT_KEY}`,
      `azure_key_secret=${names.azureKeySecret}`,
      `azure_openai_account=${config.AZURE_OPENAI_ACCOUNT}`,
      `azure_resource_group=${config.AZURE_RESOURCE_GROUP}`,
    ]);
  });

  it('refuses an image tag ECR would refuse, and an environment it does not know', () => {
    const badTag = runCiEnv('dev', 'not a tag');
    expect(badTag.status).toBe(1);
    expect(badTag.stderr).toContain('IMAGE_TAG: must be a valid image tag');
    expect(badTag.stdout).toBe('');

    const unknown = runCiEnv('staging', '');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('usage');
  });

  it('names every output the workflows read, so a misspelt one cannot silently be empty', () => {
    const known = Object.keys(ciOutputs(configOf('dev'), 'tag'));
    const read = readdirSync(workflowsDir).flatMap((file) =>
      [...readFileSync(join(workflowsDir, file), 'utf8').matchAll(/steps\.target\.outputs\.(\w+)/g)].map(
        ([, key]) => `${file}: ${key}`,
      ),
    );
    expect(read.length).toBeGreaterThan(10);
    expect(read.filter((entry) => !known.includes(entry.split(': ')[1]!))).toEqual([]);
  });
});

describe('image tag', () => {
  const made: string[] = [];
  const scratch = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
  afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  /** A throwaway repository; `commit` writes the files and commits them, returning the SHA. */
  function repository() {
    const dir = scratch('mcv-tag-');
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: dir,
        encoding: 'utf8',
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'ci',
          GIT_AUTHOR_EMAIL: 'ci@example.com',
          GIT_COMMITTER_NAME: 'ci',
          GIT_COMMITTER_EMAIL: 'ci@example.com',
          GIT_CONFIG_GLOBAL: '/dev/null',
        },
      }).trim();
    git('init', '--quiet', '--initial-branch=main');
    const commit = (...files: string[]) => {
      for (const file of files) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), `${file} ${Math.random()}\n`);
      }
      git('add', '--all');
      git('commit', '--quiet', '--message', files.join(' '));
      return git('rev-parse', 'HEAD');
    };
    return { dir, git, commit };
  }

  it('is the last commit that changed what the images are built from', () => {
    const repo = repository();
    const app = repo.commit('services/api/src/app.ts', 'infra/src/app.ts');
    expect(imageTagOf(repo.dir)).toBe(app);
    // Infrastructure, docs and workflows alone keep the images that are running.
    repo.commit('infra/env/dev.env');
    repo.commit('docs/deployment.md', '.github/workflows/ci.yml');
    expect(imageTagOf(repo.dir)).toBe(app);
    // Each image source makes a new tag.
    for (const source of [
      'web/src/main.tsx',
      'docker/api.Dockerfile',
      'scripts/bundle.ts',
      'pnpm-lock.yaml',
    ]) {
      expect(imageTagOf(repo.dir)).not.toBe(repo.commit(source));
      expect(imageTagOf(repo.dir)).toBe(repo.git('rev-parse', 'HEAD'));
    }
  });

  it("is main's merge commit for a merged branch, not a commit on the branch", () => {
    const repo = repository();
    repo.commit('services/core/src/index.ts');
    repo.git('checkout', '--quiet', '-b', 'feature');
    const onBranch = repo.commit('services/worker/src/lambda.ts');
    repo.git('checkout', '--quiet', 'main');
    repo.commit('infra/src/names.ts');
    repo.git('merge', '--quiet', '--no-ff', '--no-edit', 'feature');
    const merge = repo.git('rev-parse', 'HEAD');
    expect(imageTagOf(repo.dir)).toBe(merge);
    expect(merge).not.toBe(onBranch);
  });

  it('refuses a shallow clone, whose first commit would look like the last change', () => {
    const repo = repository();
    repo.commit('services/api/src/app.ts');
    repo.commit('infra/src/app.ts');
    const clone = scratch('mcv-shallow-');
    execFileSync('git', ['clone', '--quiet', '--depth', '1', `file://${repo.dir}`, clone]);
    expect(() => imageTagOf(clone)).toThrow('fetch-depth: 0');
  });

  it('lists the same sources deploy-images.yml is triggered by', () => {
    const workflow = readFileSync(join(workflowsDir, 'deploy-images.yml'), 'utf8');
    // The `paths:` list under `on: push:` (prettier keeps the YAML in this shape).
    const paths = workflow.match(/^on:\n {2}push:\n(?: {4}.*\n)*? {4}paths:\n((?: {6}- .*\n)+)/m)?.[1];
    expect(paths).toBeDefined();
    const listed = paths!
      .trim()
      .split('\n')
      .map((line) => line.replace(/^\s*- /, '').replace(/^'(.*)'$/, '$1'));
    const expected = imageSources.map((source) => (source.includes('.') ? source : `${source}/**`));
    expect(listed.sort()).toEqual([...expected].sort());
  });
});
