import { expect } from '@jest/globals';
import { Testing, type TerraformStack } from 'cdktf';
import type { Config } from '@mc-vision/core/config/index';
import { addEnvironment } from '../src/app';
import { deployEnvironments, loadDeployConfig, type DeployEnvironment } from '../src/config';

/** An environment's configuration exactly as its file says (no IMAGE_TAG from the test's environment). */
export function configOf(env: DeployEnvironment): Config {
  return loadDeployConfig(env, { overrides: {} });
}

/** A class cdktf's matchers accept: a generated resource, data source or provider binding. */
interface TerraformConstructor {
  readonly tfResourceType: string;
}

/** cdktf's jest matchers (registered in setup-cdktf.ts), typed for `expect` from @jest/globals. */
interface CdktfMatchers {
  toHaveResource(type: TerraformConstructor): void;
  toHaveResourceWithProperties(type: TerraformConstructor, properties: Record<string, unknown>): void;
  toHaveDataSource(type: TerraformConstructor): void;
  toHaveProviderWithProperties(type: TerraformConstructor, properties: Record<string, unknown>): void;
  not: CdktfMatchers;
}

export function expectSynth(synthesized: string): CdktfMatchers {
  return expect(synthesized) as unknown as CdktfMatchers;
}

/** Synthesized Terraform JSON of one stack, as Terraform reads it. */
export interface TerraformJson {
  terraform: {
    backend?: Record<string, Record<string, unknown>>;
    required_providers?: Record<string, unknown>;
  };
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, { value: unknown; sensitive?: boolean }>;
  variable?: Record<string, Record<string, unknown>>;
  removed?: Record<string, unknown>[];
  provider?: Record<string, Record<string, unknown>[]>;
}

export interface SynthesizedStack {
  name: string;
  stack: TerraformStack;
  /** Testing.synth's output: what cdktf's matchers and the snapshots take. */
  text: string;
  json: TerraformJson;
}

export function synth(stack: TerraformStack): SynthesizedStack {
  const text = Testing.synth(stack);
  return { name: stack.node.id, stack, text, json: JSON.parse(text) as TerraformJson };
}

/** Every stack of every environment, synthesized once. */
export function synthAll(): SynthesizedStack[] {
  const app = Testing.app();
  return deployEnvironments.flatMap((env) =>
    Object.values(addEnvironment(app, configOf(env))).map((stack) => synth(stack)),
  );
}

/** `{address: config}` of every resource of a type, e.g. `resources(json, 'aws_s3_bucket')`. */
export function resources(json: TerraformJson, type: string): [string, Record<string, unknown>][] {
  return Object.entries(json.resource?.[type] ?? {});
}

/** The Terraform reference to a resource's attribute, as it appears in synthesized JSON. */
export function ref(type: string, address: string, attribute: string): string {
  return `\${${type}.${address}.${attribute}}`;
}

/** The one resource of a type (whose address starts with `prefix`, the construct's id): `[address, config]`. */
export function only(json: TerraformJson, type: string, prefix?: string): [string, Record<string, unknown>] {
  const matches = resources(json, type).filter(([address]) => !prefix || address.startsWith(prefix));
  if (matches.length !== 1) {
    throw new Error(`expected one ${type}${prefix ? ` at ${prefix}` : ''}, found ${matches.length}`);
  }
  return matches[0]!;
}
