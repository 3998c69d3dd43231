import { describe, expect, it } from '@jest/globals';
import aslValidator from 'asl-validator';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  buildPipelineDefinition,
  pipelineStates,
  placeholderResources,
  PlatformErrorName,
  ProviderErrorName,
  retryableErrors,
  serviceIntegrations,
  workerTaskStates,
  type AslState,
  type AslTaskState,
  type PipelineDefinition,
} from '../../../src/index.ts';

const definition = buildPipelineDefinition(placeholderResources);

/** Every state, Parallel branches included. */
function allStates(machine: Pick<PipelineDefinition, 'States'>): [string, AslState][] {
  return Object.entries(machine.States).flatMap(([name, state]) => [
    [name, state] as [string, AslState],
    ...(state.Type === 'Parallel' ? state.Branches.flatMap(allStates) : []),
  ]);
}

const tasks = allStates(definition).filter(
  (entry): entry is [string, AslTaskState] => entry[1].Type === 'Task',
);

describe('the pipeline definition', () => {
  it('is valid Amazon States Language', () => {
    // A copy: asl-validator 4 writes `QueryLanguage: "JSONPath"` into every state it checks.
    const result = aslValidator(structuredClone(definition));
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('uses JSONPath only', () => {
    const json = JSON.stringify(definition);
    expect(json).not.toContain('QueryLanguage');
    expect(json).not.toContain('{%');
    expect(json).not.toContain('"Arguments"');
  });

  it('runs Classify, then Describe (Bedrock and Azure in parallel), BuildRecord, SaveResult and Notify', () => {
    expect(definition.StartAt).toBe('Classify');
    const next = (name: string) => {
      const state = definition.States[name];
      return state && 'Next' in state ? state.Next : undefined;
    };
    expect(next('Classify')).toBe('UseLabelsAsHints');
    expect(next('UseLabelsAsHints')).toBe('Describe');
    expect(next('ClassifyFailed')).toBe('Describe');
    expect(next('Describe')).toBe('BuildRecord');
    expect(next('BuildRecord')).toBe('SaveResult');
    expect(next('SaveResult')).toBe('Notify');
    const describeState = definition.States.Describe;
    expect(describeState?.Type === 'Parallel' && describeState.Branches.map((b) => b.StartAt)).toEqual([
      'DescribeWithBedrock',
      'DescribeWithAzure',
    ]);
    expect(
      allStates(definition)
        .map(([name]) => name)
        .sort(),
    ).toEqual(Object.values(pipelineStates).sort());
  });

  it('puts the resources it is given where they belong, and nothing else', () => {
    const resources = {
      workerFunctionArn: '${TfToken[TOKEN.12]}',
      resultsTableName: 'prod-results',
      notifyTopicArn: 'arn:aws:sns:eu-west-1:111122223333:prod-topic',
    };
    const rendered = buildPipelineDefinition(resources);
    const byName = Object.fromEntries(allStates(rendered));
    for (const name of Object.keys(workerTaskStates)) {
      expect(byName[name]).toMatchObject({ Type: 'Task', Resource: resources.workerFunctionArn });
    }
    expect(byName.SaveResult).toMatchObject({
      Resource: serviceIntegrations.dynamoDbPutItem,
      Parameters: { TableName: 'prod-results', 'Item.$': '$.built.item' },
    });
    for (const name of ['Notify', 'NotifyPipelineFailure']) {
      expect(byName[name]).toMatchObject({
        Resource: serviceIntegrations.snsPublish,
        Parameters: { TopicArn: resources.notifyTopicArn },
      });
    }
    // Pure data: the same inputs give the same document, and it survives JSON as it is.
    expect(buildPipelineDefinition(resources)).toEqual(rendered);
    expect(JSON.parse(JSON.stringify(rendered))).toEqual(rendered);
    expect(JSON.stringify(rendered)).not.toContain('000000000000');
  });

  it('refuses empty resources', () => {
    expect(() => buildPipelineDefinition({ ...placeholderResources, resultsTableName: '' })).toThrow();
  });

  it('gives the execution and every task a timeout', () => {
    expect(definition.TimeoutSeconds).toBeGreaterThan(0);
    expect(tasks).toHaveLength(7);
    for (const [, task] of tasks) expect(task.TimeoutSeconds).toBeGreaterThan(0);

    const custom = buildPipelineDefinition(placeholderResources, {
      workerTaskTimeoutSeconds: 61,
      serviceTaskTimeoutSeconds: 7,
      executionTimeoutSeconds: 600,
    });
    const byName = Object.fromEntries(allStates(custom)) as Record<string, AslTaskState>;
    expect(custom.TimeoutSeconds).toBe(600);
    expect(byName.DescribeWithAzure?.TimeoutSeconds).toBe(61);
    expect(byName.SaveResult?.TimeoutSeconds).toBe(7);
    expect(() => buildPipelineDefinition(placeholderResources, { workerTaskTimeoutSeconds: 0 })).toThrow();
  });

  it('retries throttling and transient errors with capped, fully jittered backoff on every task', () => {
    for (const [name, task] of tasks) {
      expect(task.Retry.length).toBeGreaterThan(0);
      for (const retrier of task.Retry) {
        expect({ name, jitter: retrier.JitterStrategy }).toEqual({ name, jitter: 'FULL' });
        expect(retrier.MaxDelaySeconds).toBeGreaterThan(0);
        expect(retrier.BackoffRate).toBeGreaterThan(1);
        expect(retrier.IntervalSeconds).toBeGreaterThan(0);
        expect(retrier.ErrorEquals).not.toContain('States.ALL');
      }
    }
    const retried = (name: string) =>
      tasks.find(([state]) => state === name)![1].Retry.flatMap((retrier) => retrier.ErrorEquals);
    for (const name of ['Classify', 'DescribeWithBedrock', 'DescribeWithAzure']) {
      expect(retried(name)).toEqual(
        expect.arrayContaining([
          'ProviderThrottled',
          'ProviderUnavailable',
          'Lambda.ServiceException',
          'Lambda.AWSLambdaException',
          'Lambda.SdkClientException',
          'Lambda.TooManyRequestsException',
        ]),
      );
      // What retrying cannot fix is caught at once.
      for (const permanent of [
        'ProviderModelError',
        'GuardrailIntervened',
        'InvalidModelResponse',
        'ImageNotFound',
      ]) {
        expect(retried(name)).not.toContain(permanent);
      }
    }
    expect(retried('SaveResult')).toContain('DynamoDB.ProvisionedThroughputExceededException');
    expect(retried('Notify')).toContain('SNS.ThrottledException');
  });

  it("retries exactly core's retryable named errors in every worker task that reads an image", () => {
    const coreNames = [...Object.values(ProviderErrorName), ...Object.values(PlatformErrorName)] as string[];
    for (const name of ['Classify', 'DescribeWithBedrock', 'DescribeWithAzure']) {
      const [throttled, transient] = tasks.find(([state]) => state === name)![1].Retry;
      expect(throttled!.ErrorEquals.filter((error) => coreNames.includes(error))).toEqual([
        ...retryableErrors.throttled,
      ]);
      expect(transient!.ErrorEquals.filter((error) => coreNames.includes(error))).toEqual([
        ...retryableErrors.transient,
      ]);
      // A flaky image store is retried like a flaky provider.
      expect(transient!.ErrorEquals).toContain('ImageUnavailable');
    }
  });

  it("catches every provider's failure so the other results are still saved", () => {
    for (const name of ['Classify', 'DescribeWithBedrock', 'DescribeWithAzure']) {
      const task = tasks.find(([state]) => state === name)![1];
      expect(task.Catch?.map((catcher) => catcher.ErrorEquals)).toEqual([['States.ALL']]);
    }
    // Nothing after the describers is skipped by a failure: BuildRecord and SaveResult failures are notified.
    const toFailureNotice = {
      ErrorEquals: ['States.ALL'],
      ResultPath: '$.failure',
      Next: 'NotifyPipelineFailure',
    };
    expect(tasks.find(([state]) => state === 'BuildRecord')![1].Catch).toEqual([toFailureNotice]);
    // SaveResult's conflict (another flow holds the requestId) is named RecordExists, then notified too.
    expect(tasks.find(([state]) => state === 'SaveResult')![1].Catch).toEqual([
      { ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: null, Next: 'RecordConflict' },
      toFailureNotice,
    ]);
    expect(definition.States.RecordConflict).toMatchObject({
      Type: 'Pass',
      Parameters: { Error: 'RecordExists' },
      ResultPath: '$.failure',
      Next: 'NotifyPipelineFailure',
    });
  });

  it('saves the record only where nothing is, over its own claim, or over its own record, for its image', () => {
    const save = definition.States.SaveResult as AslTaskState;
    expect(save.Parameters).toEqual({
      TableName: placeholderResources.resultsTableName,
      'Item.$': '$.built.item',
      ConditionExpression:
        'attribute_not_exists(#requestId) OR (#imageKey = :imageKey AND (#claimedBy = :pipeline OR #source = :pipeline))',
      ExpressionAttributeNames: {
        '#requestId': 'requestId',
        '#imageKey': 'imageKey',
        '#claimedBy': 'claimedBy',
        '#source': 'source',
      },
      ExpressionAttributeValues: { ':pipeline': { S: 'pipeline' }, ':imageKey': { 'S.$': '$.imageKey' } },
    });
  });
});

describe('pnpm pipeline:definition', () => {
  it('prints the definition with placeholder ARNs as JSON', async () => {
    const root = fileURLToPath(new URL('../../../../../', import.meta.url));
    const { stdout } = await promisify(execFile)('pnpm', ['--silent', 'pipeline:definition'], { cwd: root });
    expect(JSON.parse(stdout)).toEqual(buildPipelineDefinition(placeholderResources));
  });
});
