import { deployEnvironments, loadDeployConfig, type DeployEnvironment } from './config';
import { resourceNames } from './names';

// What the infra workflows need to know about an environment, from its configuration (never repeated in
// the YAML): `tsx src/ci-env.ts dev >> "$GITHUB_OUTPUT"`.

const env = process.argv[2] as DeployEnvironment;
if (!deployEnvironments.includes(env)) {
  console.error(`usage: tsx src/ci-env.ts <${deployEnvironments.join('|')}>`);
  process.exit(2);
}
const config = loadDeployConfig(env);
const names = resourceNames(config);
const outputs = {
  aws_region: config.AWS_REGION,
  plan_role_arn: names.githubRoleArn('plan'),
  deploy_role_arn: names.githubRoleArn('deploy'),
  image_tag: config.IMAGE_TAG,
};
for (const [key, value] of Object.entries(outputs)) console.log(`${key}=${value}`);
