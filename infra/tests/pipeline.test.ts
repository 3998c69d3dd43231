import { describe, expect, it } from '@jest/globals';
import { buildPipelineDefinition, serviceIntegrations } from '@mc-vision/core/pipeline/definition';
import { Testing } from 'cdktf';
import { workerTaskMarginSeconds } from '../src/constructs/pipeline';
import { resourceNames } from '../src/names';
import { AwsPlatformStack } from '../src/stacks/aws-platform';
import { configOf, only, ref, synth } from './helpers';
import { asList, policyDocuments } from './policy-checks';

const config = configOf('dev');
const names = resourceNames(config);
const { json } = synth(new AwsPlatformStack(Testing.app(), 'dev-aws-platform', config));

const [, machine] = only(json, 'aws_sfn_state_machine');
const [workerAddress, worker] = only(json, 'aws_lambda_function', 'worker-function');
const [tableAddress] = only(json, 'aws_dynamodb_table');
const [topicAddress, topic] = only(json, 'aws_sns_topic', 'notifications_topic_');

/** The definition the state machine must run: the core's, with this stack's resources substituted. */
const expected = buildPipelineDefinition(
  {
    workerFunctionArn: ref('aws_lambda_function', workerAddress, 'arn'),
    resultsTableName: ref('aws_dynamodb_table', tableAddress, 'name'),
    notifyTopicArn: ref('aws_sns_topic', topicAddress, 'arn'),
  },
  { workerTaskTimeoutSeconds: config.WORKER_TIMEOUT_SECONDS + workerTaskMarginSeconds },
);

const synthesized = JSON.parse(String(machine.definition)) as unknown;

interface AnyState {
  Type?: string;
  Resource?: string;
  TimeoutSeconds?: number;
  States?: Record<string, AnyState>;
  Branches?: AnyState[];
}

/** Every state, Parallel branches included. */
function allStates(node: unknown): AnyState[] {
  const { States = {} } = node as AnyState;
  return Object.values(States).flatMap((state) => [state, ...(state.Branches ?? []).flatMap(allStates)]);
}

describe('the state machine', () => {
  it("is exactly the core's pipeline definition with this stack's worker, table and topic", () => {
    expect(machine.definition).toBe(JSON.stringify(expected));
    expect(JSON.parse(String(machine.definition))).toEqual(expected);
  });

  it('calls only the worker function and the DynamoDB and SNS integrations', () => {
    const used = new Set(allStates(synthesized).flatMap((s) => (s.Type === 'Task' ? [s.Resource] : [])));
    expect([...used].sort()).toEqual(
      [
        ref('aws_lambda_function', workerAddress, 'arn'),
        serviceIntegrations.dynamoDbPutItem,
        serviceIntegrations.snsPublish,
      ].sort(),
    );
    // Terraform interpolates `${...}` and `%{...}`: the only ones in the definition are the references.
    const interpolations = String(machine.definition).match(/[$%]\{[^}]*\}/g) ?? [];
    expect(new Set(interpolations)).toEqual(
      new Set([
        ref('aws_lambda_function', workerAddress, 'arn'),
        ref('aws_dynamodb_table', tableAddress, 'name'),
        ref('aws_sns_topic', topicAddress, 'arn'),
      ]),
    );
  });

  it('gives every worker task longer than the worker function may run', () => {
    expect(Number(worker.timeout)).toBe(config.WORKER_TIMEOUT_SECONDS);
    const workerArn = ref('aws_lambda_function', workerAddress, 'arn');
    const workerTasks = allStates(synthesized).filter((s) => s.Resource === workerArn);
    expect(workerTasks).toHaveLength(4);
    for (const task of workerTasks) expect(task.TimeoutSeconds).toBeGreaterThan(Number(worker.timeout));
  });

  it('logs to its own log group without execution data, and is traced', () => {
    const [groupAddress, group] = only(json, 'aws_cloudwatch_log_group', 'pipeline');
    expect(group.name).toBe(names.pipelineLogGroup);
    expect(machine).toMatchObject({
      name: names.stateMachine,
      type: 'STANDARD',
      logging_configuration: {
        level: config.PIPELINE_LOG_LEVEL,
        include_execution_data: false,
        log_destination: `${ref('aws_cloudwatch_log_group', groupAddress, 'arn')}:*`,
      },
      tracing_configuration: { enabled: true },
    });
  });

  it('runs as a role that may invoke only its worker, write only its table and publish only to its topic', () => {
    const role = String(machine.role_arn).match(/^\$\{aws_iam_role\.([^.]+)\.arn\}$/)?.[1];
    expect(role).toMatch(/^pipeline_role_/);
    const [policy] = policyDocuments(json).filter((d) =>
      d.where.startsWith('aws_iam_role_policy.pipeline_role_policy'),
    );
    const grants = Object.fromEntries(
      policy!.statements.map((s) => [asList(s.Action).join(' '), asList(s.Resource)] as const),
    );
    const workerArn = ref('aws_lambda_function', workerAddress, 'arn');
    expect(grants['lambda:InvokeFunction']).toEqual([workerArn, `${workerArn}:*`]);
    expect(grants['dynamodb:PutItem']).toEqual([
      `arn:aws:dynamodb:${names.region}:${names.account}:table/${ref('aws_dynamodb_table', tableAddress, 'name')}`,
    ]);
    expect(grants['sns:Publish']).toEqual([ref('aws_sns_topic', topicAddress, 'arn')]);
    expect(grants['kms:Decrypt kms:GenerateDataKey']).toEqual([topic.kms_master_key_id]);
    // The rest is log delivery and X-Ray, which AWS offers on `*` only.
    const rest = Object.entries(grants).filter(([, resources]) => resources.includes('*'));
    expect(rest.flatMap(([actions]) => actions.split(' ')).every((a) => /^(logs|xray):/.test(a))).toBe(true);
    expect(Object.keys(grants)).toHaveLength(6);
  });
});
