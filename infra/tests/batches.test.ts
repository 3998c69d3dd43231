import { describe, expect, it } from '@jest/globals';
import { batchPrefixes, batchSources } from '@mc-vision/core/batches';
import { batchLimits, batchMapLabel, buildBatchDefinition } from '@mc-vision/core/pipeline/batch-definition';
import { Testing } from 'cdktf';
import { workerTaskMarginSeconds } from '../src/constructs/pipeline';
import { resourceNames } from '../src/names';
import { AwsPlatformStack } from '../src/stacks/aws-platform';
import { configOf, only, ref, resources, synth } from './helpers';
import { isAllowed, policyDocuments, wildcardProblems } from './policy-checks';

// The batch state machines as infra renders them: core's batch definition with this stack's resources, and a
// role that may do what a Distributed Map of the pipeline needs and nothing more.

const config = configOf('dev');
const names = resourceNames(config);
const { json } = synth(new AwsPlatformStack(Testing.app(), 'dev-aws-platform', config));

const machines = resources(json, 'aws_sfn_state_machine').filter(([address]) =>
  address.startsWith('batches_'),
);
const [workerAddress] = only(json, 'aws_lambda_function', 'worker-function');
const [tableAddress] = only(json, 'aws_dynamodb_table');
const [topicAddress] = only(json, 'aws_sns_topic', 'notifications_topic_');
const bucket = `arn:aws:s3:::${names.imagesBucket}`;
const [policy] = policyDocuments(json).filter((document) =>
  document.where.startsWith('aws_iam_role_policy.batches_role_policy'),
);
const allowed = (action: string, resource: string, context?: Record<string, string>) =>
  isAllowed(policy!.statements, { action, resource, ...(context ? { context } : {}) });
const execution = (machine: string, name: string) =>
  `arn:aws:states:${names.region}:${names.account}:execution:${machine}:${name}`;

describe('the batch state machines', () => {
  it("are exactly core's batch definitions, one per source, with this stack's resources and configuration", () => {
    expect(machines.map(([, machine]) => machine.name).sort()).toEqual(
      batchSources.map((source) => names.batchStateMachine(source)).sort(),
    );
    for (const source of batchSources) {
      const [, machine] = machines.find(([, m]) => m.name === names.batchStateMachine(source))!;
      const expected = buildBatchDefinition(
        {
          workerFunctionArn: ref('aws_lambda_function', workerAddress, 'arn'),
          resultsTableName: ref('aws_dynamodb_table', tableAddress, 'name'),
          notifyTopicArn: ref('aws_sns_topic', topicAddress, 'arn'),
          imagesBucket: names.imagesBucket,
        },
        {
          source,
          ...batchLimits(config),
          item: { workerTaskTimeoutSeconds: config.WORKER_TIMEOUT_SECONDS + workerTaskMarginSeconds },
        },
      );
      expect(JSON.parse(String(machine.definition))).toEqual(expected);
      expect(machine).toMatchObject({ type: 'STANDARD', tracing_configuration: { enabled: true } });
    }
  });

  it('run as a role without wildcard actions', () => {
    expect(policy).toBeDefined();
    expect(wildcardProblems(policy!)).toEqual([]);
  });

  it('may start, describe, stop and redrive only their own children', () => {
    for (const source of batchSources) {
      const machine = names.batchStateMachine(source);
      expect(allowed('states:StartExecution', names.batchStateMachineArn(source))).toBe(true);
      for (const action of ['states:DescribeExecution', 'states:StopExecution', 'states:RedriveExecution']) {
        expect(
          allowed(action, execution(`${machine}/${batchMapLabel}`, 'd9f1c0a2-0000-4000-8000-000000000000')),
        ).toBe(true);
        expect(allowed(action, execution(names.stateMachine, 'some-pipeline'))).toBe(false);
        expect(allowed(action, execution(machine, 'the-batch-itself'))).toBe(false);
      }
    }
    expect(allowed('states:StartExecution', names.stateMachineArn)).toBe(false);
  });

  it('may list and read only images and key lists, and write only results', () => {
    const listing = (prefix: string) => allowed('s3:ListBucket', bucket, { 's3:prefix': prefix });
    expect(listing('images/catalogue/')).toBe(true);
    expect(listing('batches/')).toBe(false);
    expect(listing('')).toBe(false);
    expect(allowed('s3:GetObject', `${bucket}/images/catalogue/0001.jpg`)).toBe(true);
    expect(allowed('s3:GetObject', `${bucket}/${batchPrefixes.manifests}${'a'.repeat(64)}.json`)).toBe(true);
    expect(allowed('s3:GetObject', `${bucket}/private/notes.txt`)).toBe(false);
    const result = `${bucket}/${batchPrefixes.results}/d9f1c0a2/SUCCEEDED_0.json`;
    expect(allowed('s3:PutObject', result)).toBe(true);
    expect(allowed('s3:PutObject', `${bucket}/images/overwritten.jpg`)).toBe(false);
    expect(allowed('s3:PutObject', `${bucket}/${batchPrefixes.manifests}forged.json`)).toBe(false);
    expect(allowed('s3:DeleteObject', result)).toBe(false);
  });
});
