import { describe, expect, it } from '@jest/globals';
import { scheduledEvent, taskEvent, taskFailureCause, taskKind } from '../src/step-functions/task-events.ts';

// How a Task's events are named and detailed, for a Lambda function ARN and for a service integration.

const lambda = taskKind('arn:aws:lambda:us-east-1:000000000000:function:worker');
const invoke = taskKind('arn:aws:states:::lambda:invoke');
const putItem = taskKind('arn:aws:states:::dynamodb:putItem');

describe('task kinds', () => {
  it('tells Lambda functions from service integrations, naming the service and the action', () => {
    expect(lambda).toEqual({
      kind: 'lambda',
      resource: 'arn:aws:lambda:us-east-1:000000000000:function:worker',
    });
    expect(invoke).toEqual({ kind: 'service', resourceType: 'lambda', resource: 'invoke' });
    expect(taskKind('arn:aws:states:::ecs:runTask.sync')).toEqual({
      kind: 'service',
      resourceType: 'ecs',
      resource: 'runTask.sync',
    });
    expect(taskKind('something-else')).toEqual({
      kind: 'service',
      resourceType: 'unknown',
      resource: 'something-else',
    });
  });
});

describe('task events', () => {
  it('names a Lambda function’s events LambdaFunction*, with Started bare', () => {
    expect(scheduledEvent(lambda, { n: 1 }, 'eu-west-1', 30)).toEqual({
      type: 'LambdaFunctionScheduled',
      details: {
        lambdaFunctionScheduledEventDetails: {
          resource: 'arn:aws:lambda:us-east-1:000000000000:function:worker',
          input: '{"n":1}',
          inputDetails: { truncated: false },
          timeoutInSeconds: 30,
        },
      },
    });
    expect(taskEvent(lambda, 'Started')).toEqual({ type: 'LambdaFunctionStarted', details: {} });
    expect(taskEvent(lambda, 'Failed', { error: 'E', cause: 'c' })).toEqual({
      type: 'LambdaFunctionFailed',
      details: { lambdaFunctionFailedEventDetails: { error: 'E', cause: 'c' } },
    });
  });

  it('names a service integration’s events Task*, each naming the resource', () => {
    expect(scheduledEvent(putItem, { TableName: 't' }, 'eu-west-1', undefined)).toEqual({
      type: 'TaskScheduled',
      details: {
        taskScheduledEventDetails: {
          resourceType: 'dynamodb',
          resource: 'putItem',
          region: 'eu-west-1',
          parameters: '{"TableName":"t"}',
        },
      },
    });
    expect(taskEvent(putItem, 'Started')).toEqual({
      type: 'TaskStarted',
      details: { taskStartedEventDetails: { resourceType: 'dynamodb', resource: 'putItem' } },
    });
    expect(taskEvent(invoke, 'TimedOut', { error: 'States.Timeout' })).toEqual({
      type: 'TaskTimedOut',
      details: {
        taskTimedOutEventDetails: { resourceType: 'lambda', resource: 'invoke', error: 'States.Timeout' },
      },
    });
  });

  it('reports Lambda failures as the runtime’s JSON payload and other failures as text', () => {
    const payload = { errorType: 'ProviderThrottled', errorMessage: 'slow down', trace: [] };
    expect(JSON.parse(taskFailureCause(lambda, 'ProviderThrottled', 'slow down'))).toEqual(payload);
    expect(JSON.parse(taskFailureCause(invoke, 'ProviderThrottled', 'slow down'))).toEqual(payload);
    expect(taskFailureCause(putItem, 'DynamoDB.ConditionalCheckFailedException', 'no')).toBe('no');
  });
});
