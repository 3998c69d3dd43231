import { describe, expect, it } from '@jest/globals';
import { Testing } from 'cdktf';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { functionImage, functionRoles, imageNames, resourceNames } from '../src/names';
import { AwsPlatformStack, ingestCommand } from '../src/stacks/aws-platform';
import { configOf, resources, synth } from './helpers';

// The images as infra uses them: one Dockerfile per repository, each built by the release into its own
// repository, and each function on its image's CMD unless infra overrides it (the image tests in
// services/*/tests/image.test.ts check the CMDs and the override name exports of the bundles).

const infraDir = join(__dirname, '..');
const workflowsDir = join(infraDir, '..', '.github', 'workflows');

describe('images', () => {
  it('has a Dockerfile for every repository, and the release builds each into its own repository', () => {
    const dockerfiles = readdirSync(join(infraDir, '..', 'docker')).filter((f) => f.endsWith('.Dockerfile'));
    expect(dockerfiles.sort()).toEqual(imageNames.map((image) => `${image}.Dockerfile`).sort());

    const workflow = readFileSync(join(workflowsDir, 'infra-apply.yml'), 'utf8');
    const builds = workflow.split(/\n(?= {6}- )/).filter((step) => step.includes('docker/build-push-action'));
    expect(builds).toHaveLength(imageNames.length);
    const target = (key: string) => `\${{ steps.target.outputs.${key} }}`;
    for (const image of imageNames) {
      const build = builds.find((step) => step.includes(`file: docker/${image}.Dockerfile`));
      const repository = `ecr_repository_${image.replace('-', '_')}`;
      expect(build).toContain(`tags: ${target('ecr_registry')}/${target(repository)}:${target('image_tag')}`);
      // Lambda and SageMaker need a single-platform x86_64 manifest, not an index with attestations.
      expect(build).toMatch(/platforms: linux\/amd64\n[\s\S]*provenance: false\n[\s\S]*sbom: false/);
    }
  });

  it("runs every function on its image's CMD, except the ingest function on its own handler", () => {
    const config = configOf('dev');
    const names = resourceNames(config);
    const json = synth(new AwsPlatformStack(Testing.app(), 'dev-aws-platform', config)).json;
    const functions = resources(json, 'aws_lambda_function').map(([, fn]) => fn);
    expect(functions).toHaveLength(functionRoles.length);
    for (const role of functionRoles) {
      const fn = functions.find((f) => f.function_name === names.functionName(role))!;
      expect(String(fn.image_uri)).toContain(`registry_${functionImage[role]}_`);
      expect(fn.image_config).toEqual(role === 'ingest' ? { command: ingestCommand } : undefined);
    }
  });
});
