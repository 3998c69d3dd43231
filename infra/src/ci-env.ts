import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Config } from '@mc-vision/core/config/index';
import { deployEnvironments, loadDeployConfig, type DeployEnvironment } from './config';
import { imageNames, resourceNames } from './names';

// What the workflows need to know about an environment, from its configuration and `resourceNames` (never
// repeated in the YAML): `tsx src/ci-env.ts dev >> "$GITHUB_OUTPUT"`.

/**
 * Everything the images are built from. A commit that touches none of these needs no new images, so it
 * keeps the tag the last one that did got. deploy-images.yml's `on.push.paths` lists the same
 * (tests/ci-env.test.ts checks).
 */
export const imageSources = [
  'services',
  'web',
  'docker',
  'scripts',
  'package.json',
  'pnpm-lock.yaml',
  'pnpm-workspace.yaml',
  '.dockerignore',
] as const;

const repoRoot = join(__dirname, '..', '..');

/**
 * The image tag of the checked-out commit: the SHA of the last commit on its first-parent line (main's own
 * commits, merges included) that changed an image source. deploy-images.yml pushes the images under it, and
 * every plan and apply of that commit computes the same tag, so an infrastructure-only change keeps the
 * images that are running.
 */
export function imageTagOf(dir: string = repoRoot): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
  // A shallow clone ends in a commit that seems to add every file: it would look like the last change.
  if (git('rev-parse', '--is-shallow-repository') === 'true') {
    throw new Error('the image tag needs the whole history: check out with fetch-depth: 0');
  }
  const sha = git('log', '-1', '--first-parent', '--format=%H', '--', ...imageSources);
  if (!/^[0-9a-f]{40}$/.test(sha)) throw new Error(`no commit changes the image sources in ${dir}`);
  return sha;
}

/**
 * `key=value` lines for `$GITHUB_OUTPUT`: the environment's roles, registry, model artifact, image tag, the
 * name of the Azure key's secret and the Azure OpenAI account it comes from.
 */
export function ciOutputs(config: Config, imageTag: string): Record<string, string> {
  const names = resourceNames(config);
  return {
    aws_region: config.AWS_REGION,
    plan_role_arn: names.githubRoleArn('plan'),
    deploy_role_arn: names.githubRoleArn('deploy'),
    image_tag: imageTag,
    ecr_registry: `${names.account}.dkr.ecr.${names.region}.amazonaws.com`,
    ...Object.fromEntries(
      imageNames.map((image) => [`ecr_repository_${image.replace('-', '_')}`, names.repository(image)]),
    ),
    models_bucket: names.modelsBucket,
    model_artifact_key: config.MODEL_ARTIFACT_KEY,
    azure_key_secret: names.azureKeySecret,
    azure_openai_account: config.AZURE_OPENAI_ACCOUNT,
    azure_resource_group: config.AZURE_RESOURCE_GROUP,
  };
}

function main(): void {
  const env = process.argv[2] as DeployEnvironment;
  if (!deployEnvironments.includes(env)) {
    console.error(`usage: tsx src/ci-env.ts <${deployEnvironments.join('|')}>`);
    process.exit(2);
  }
  try {
    // IMAGE_TAG set (a rollback, or the tag deploy-images just pushed) wins; the schema validates it.
    const config = loadDeployConfig(env);
    const imageTag = process.env.IMAGE_TAG ? config.IMAGE_TAG : imageTagOf();
    for (const [key, value] of Object.entries(ciOutputs(config, imageTag))) console.log(`${key}=${value}`);
  } catch (error) {
    console.error(`ci-env: ${(error as Error).message}`);
    process.exit(1);
  }
}

if (require.main === module) main();
