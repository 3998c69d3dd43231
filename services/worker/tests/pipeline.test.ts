import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  buildPipelineDefinition,
  fromResultItem,
  GuardrailIntervenedError,
  pipelineStates,
  ProviderModelError,
  ProviderThrottledError,
  ProviderUnavailableError,
  type PipelineInput,
  type PipelineResources,
  type ResultRecord,
} from '@mc-vision/core';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { createTaskHandler, type TaskHandler } from '../src/index.ts';
import {
  description,
  fakeClassifier,
  fakeDescriber,
  pelicanLabels,
  type FakeClassifier,
  type FakeDescriber,
} from './support/fakes.ts';
import { startFaultyS3, type FaultyS3 } from './support/faulty-s3.ts';
import { fixtureImage, startLocalS3, type LocalS3 } from './support/s3.ts';

// The pipeline definition itself, run by aws-local-stepfunctions, with the worker's real task handler reading
// the image from a real S3 (s3rver) and fake providers. SaveResult and Notify are overridden to capture the
// parameters Step Functions would send to DynamoDB and SNS.

const resources: PipelineResources = {
  workerFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:worker-under-test',
  resultsTableName: 'results-under-test',
  notifyTopicArn: 'arn:aws:sns:eu-west-1:111122223333:topic-under-test',
};
const definition = buildPipelineDefinition(resources) as unknown as StateMachineDefinition;
const pelican = fixtureImage('pelican.jpeg');
const imageKey = 'images/birds/pelican.jpeg';
/** The execution input, as the API starts it: the image's key and the version HeadObject found. */
let input: PipelineInput;
const now = new Date('2025-06-01T12:00:00.000Z');

let s3: LocalS3;
let faultyS3: FaultyS3;
beforeAll(async () => {
  s3 = await startLocalS3();
  await s3.put(imageKey, pelican, 'image/jpeg');
  const head = await s3.s3.send(new HeadObjectCommand({ Bucket: s3.config.IMAGES_BUCKET, Key: imageKey }));
  input = { requestId: 'req-pelican-1', imageKey, imageETag: head.ETag! };
  faultyS3 = await startFaultyS3(s3.config.S3_ENDPOINT!, s3.config.AWS_REGION);
});
afterAll(async () => {
  await faultyS3?.close();
  await s3?.close();
});

interface Providers {
  sagemaker: FakeClassifier;
  bedrock: FakeDescriber;
  azure: FakeDescriber;
}

/**
 * Calls the handler the way Lambda does for Step Functions: JSON in, JSON out, and a thrown error reported
 * as its name with the runtime's JSON `{errorType, errorMessage, trace}` as the cause.
 */
function asLambda(handler: TaskHandler) {
  return async (event: unknown) => {
    try {
      return JSON.parse(JSON.stringify(await handler(JSON.parse(JSON.stringify(event)))));
    } catch (error) {
      const { name, message, stack } = error as Error;
      const reported = new Error(
        JSON.stringify({ errorType: name, errorMessage: message, trace: stack?.split('\n') }),
      );
      reported.name = name;
      throw reported;
    }
  };
}

interface Run {
  output?: ResultRecord;
  /** The execution's failure as Step Functions reports it (ExecutionFailed event). */
  failure?: { Error: string; Cause: unknown };
  saved: { TableName: string; Item: Record<string, never> }[];
  published: { TopicArn: string; Subject: string; Message: string }[];
  failureNotices: { TopicArn: string; Subject: string; Message: string }[];
  retries: Record<string, number>;
}

async function runPipeline(
  providers: Providers,
  options: {
    executionInput?: PipelineInput;
    saveResult?: () => never;
    /** The worker's S3 client (default: straight to s3rver). */
    s3?: S3Client;
  } = {},
): Promise<Run> {
  const worker = asLambda(
    createTaskHandler({ config: s3.config, s3: options.s3 ?? s3.s3, providers, now: () => now }),
  );
  const run: Run = { saved: [], published: [], failureNotices: [], retries: {} };
  const execution = new StateMachine(definition).run(options.executionInput ?? input, {
    overrides: {
      taskResourceLocalHandlers: {
        [pipelineStates.classify]: worker,
        [pipelineStates.describeWithBedrock]: worker,
        [pipelineStates.describeWithAzure]: worker,
        [pipelineStates.buildRecord]: worker,
        [pipelineStates.saveResult]: async (params) => {
          if (options.saveResult) return options.saveResult();
          run.saved.push(params as Run['saved'][number]);
          return {};
        },
        [pipelineStates.notify]: async (params) => {
          run.published.push(params as Run['published'][number]);
          return { MessageId: 'm-1' };
        },
        [pipelineStates.notifyPipelineFailure]: async (params) => {
          run.failureNotices.push(params as Run['failureNotices'][number]);
          return { MessageId: 'm-2' };
        },
      },
      // Retry as the definition says, without the waits.
      retryIntervalOverrides: Object.fromEntries(Object.values(pipelineStates).map((name) => [name, 0])),
    },
  });
  const events = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateRetried') {
        run.retries[event.state.name] = (run.retries[event.state.name] ?? 0) + 1;
      }
      if (event.type === 'ExecutionFailed') run.failure = { Error: event.Error, Cause: event.Cause };
    }
  })();
  await Promise.allSettled([execution.result.then((output) => (run.output = output as never)), events]);
  return run;
}

function savedRecord(run: Run): ResultRecord {
  expect(run.saved).toHaveLength(1);
  expect(run.saved[0]!.TableName).toBe(resources.resultsTableName);
  return fromResultItem(run.saved[0]!.Item);
}

/** Providers the image read never lets the pipeline reach. */
const unreachedProviders = (): Providers => ({
  sagemaker: fakeClassifier(pelicanLabels),
  bedrock: fakeDescriber('bedrock', description('claude-3-haiku', 'unused')),
  azure: fakeDescriber('azure', description('gpt-4o-mini', 'unused')),
});

/** A failed record with the same error for every provider. */
function expectEveryProviderFailed(record: ResultRecord, error: { code: string; message: string }) {
  expect(record.status).toBe('failed');
  for (const provider of ['sagemaker', 'bedrock', 'azure'] as const) {
    expect(record.errors?.[provider]).toEqual(error);
  }
}

describe('the pipeline', () => {
  it('classifies, describes with hints, saves a complete record and notifies', async () => {
    const providers = {
      sagemaker: fakeClassifier(pelicanLabels),
      bedrock: fakeDescriber('bedrock', description('claude-3-haiku', 'A pelican on a rock.')),
      azure: fakeDescriber('azure', description('gpt-4o-mini', 'A brown pelican.')),
    };
    const run = await runPipeline(providers);

    expect(run.failure).toBeUndefined();
    const record = savedRecord(run);
    expect(record).toEqual({
      requestId: input.requestId,
      imageKey: input.imageKey,
      source: 'pipeline',
      status: 'complete',
      createdAt: now.toISOString(),
      expiresAt: Math.floor(now.getTime() / 1000) + s3.config.RESULT_TTL_DAYS * 86_400,
      results: {
        sagemaker: pelicanLabels,
        bedrock: description('claude-3-haiku', 'A pelican on a rock.'),
        azure: description('gpt-4o-mini', 'A brown pelican.'),
      },
    });
    // The execution's output is the stored record.
    expect(run.output).toEqual(record);

    // Every provider got the photo from S3, and the describers got the classifier's labels as hints.
    for (const call of [providers.sagemaker.calls[0], providers.bedrock.calls[0]?.image]) {
      expect(call?.contentType).toBe('image/jpeg');
      expect(Buffer.from(call!.bytes).equals(Buffer.from(pelican))).toBe(true);
    }
    expect(providers.bedrock.calls[0]?.hints).toEqual(pelicanLabels.labels);
    expect(providers.azure.calls[0]?.hints).toEqual(pelicanLabels.labels);

    expect(run.published).toHaveLength(1);
    expect(run.published[0]).toMatchObject({
      TopicArn: resources.notifyTopicArn,
      Subject: `MC Vision: complete result for ${input.requestId}`,
    });
    // What the platform says, never what the models said.
    expect(run.published[0]!.Message).toContain('sagemaker: ok\nbedrock: ok\nazure: ok');
    expect(run.published[0]!.Message).not.toContain('A pelican on a rock.');
    expect(run.published[0]!.Message).not.toContain('pelican 99%');
    expect(run.failureNotices).toHaveLength(0);
  });

  it('retries a throttled provider and keeps its answer', async () => {
    const providers = {
      sagemaker: fakeClassifier(pelicanLabels),
      bedrock: fakeDescriber('bedrock', description('claude-3-haiku', 'A pelican.')),
      azure: fakeDescriber(
        'azure',
        new ProviderThrottledError('azure', 'azure: rate limited', { statusCode: 429 }),
        new ProviderThrottledError('azure', 'azure: rate limited', { statusCode: 429 }),
        description('gpt-4o-mini', 'A pelican, third time lucky.'),
      ),
    };
    const run = await runPipeline(providers);

    expect(providers.azure.calls).toHaveLength(3);
    expect(run.retries).toEqual({ [pipelineStates.describeWithAzure]: 2 });
    const record = savedRecord(run);
    expect(record.status).toBe('complete');
    expect(record.results.azure?.caption).toBe('A pelican, third time lucky.');
    expect(record.errors).toBeUndefined();
  });

  it('saves a partial record and notifies the failure when a provider fails for good', async () => {
    const providers = {
      sagemaker: fakeClassifier(pelicanLabels),
      bedrock: fakeDescriber('bedrock', new ProviderThrottledError('bedrock', 'bedrock: too many requests')),
      azure: fakeDescriber(
        'azure',
        new GuardrailIntervenedError('azure', 'azure: the guardrail blocked the answer'),
      ),
    };
    const run = await runPipeline(providers);

    // Throttling is retried up to MaxAttempts (5) before it is caught; a guardrail block is never retried.
    expect(providers.bedrock.calls).toHaveLength(6);
    expect(providers.azure.calls).toHaveLength(1);
    const record = savedRecord(run);
    expect(record.status).toBe('partial');
    expect(record.results).toEqual({ sagemaker: pelicanLabels });
    // A clean message from Lambda's JSON cause: no JSON, no stack trace.
    expect(record.errors).toEqual({
      bedrock: { code: 'ProviderThrottled', message: 'bedrock: too many requests' },
      azure: { code: 'GuardrailIntervened', message: 'azure: the guardrail blocked the answer' },
    });

    expect(run.published).toHaveLength(1);
    expect(run.published[0]!.Subject).toBe(`MC Vision: partial result for ${input.requestId}`);
    expect(run.published[0]!.Message).toContain(
      'sagemaker: ok\nbedrock: error ProviderThrottled\nazure: error GuardrailIntervened',
    );
    expect(run.published[0]!.Message).not.toContain('too many requests');
    expect(run.output).toEqual(record);
  });

  it('still describes the image, without hints, when the classifier fails', async () => {
    const providers = {
      sagemaker: fakeClassifier(
        new ProviderUnavailableError('sagemaker', 'sagemaker: endpoint answered 503'),
      ),
      bedrock: fakeDescriber('bedrock', description('claude-3-haiku', 'A pelican.')),
      azure: fakeDescriber('azure', description('gpt-4o-mini', 'A pelican.')),
    };
    const run = await runPipeline(providers);

    expect(providers.sagemaker.calls).toHaveLength(4);
    expect(run.retries[pipelineStates.classify]).toBe(3);
    expect(providers.bedrock.calls).toHaveLength(1);
    expect(providers.bedrock.calls[0]?.hints).toBeUndefined();
    expect(providers.azure.calls[0]?.hints).toBeUndefined();

    const record = savedRecord(run);
    expect(record.status).toBe('partial');
    expect(Object.keys(record.results).sort()).toEqual(['azure', 'bedrock']);
    expect(record.errors).toEqual({
      sagemaker: { code: 'ProviderUnavailable', message: 'sagemaker: endpoint answered 503' },
    });
    expect(run.published[0]!.Message).toContain('sagemaker: error ProviderUnavailable');
  });

  it('saves a failed record and notifies it when every provider fails', async () => {
    const providers = {
      sagemaker: fakeClassifier(new ProviderModelError('sagemaker', 'sagemaker: model error')),
      bedrock: fakeDescriber('bedrock', new ProviderModelError('bedrock', 'bedrock: model error')),
      azure: fakeDescriber('azure', new ProviderModelError('azure', 'azure: model error')),
    };
    const run = await runPipeline(providers);

    const record = savedRecord(run);
    expect(record.status).toBe('failed');
    expect(record.results).toEqual({});
    expect(Object.keys(record.errors ?? {}).sort()).toEqual(['azure', 'bedrock', 'sagemaker']);
    expect(run.published[0]!.Subject).toBe(`MC Vision: failed result for ${input.requestId}`);
    expect(run.failure).toBeUndefined();
  });

  it('records ImageNotFound for every provider when the image is not in the bucket', async () => {
    const providers = unreachedProviders();
    const run = await runPipeline(providers, {
      executionInput: {
        requestId: 'req-missing',
        imageKey: 'images/not-there.jpeg',
        imageETag: input.imageETag,
      },
    });

    expect(providers.sagemaker.calls).toHaveLength(0);
    expectEveryProviderFailed(savedRecord(run), {
      code: 'ImageNotFound',
      message: 'no image at images/not-there.jpeg',
    });
  });

  it('reads the image from S3 once: the describers get the version Classify read from the worker’s memory', async () => {
    const providers = {
      sagemaker: fakeClassifier(pelicanLabels),
      bedrock: fakeDescriber('bedrock', description('claude-3-haiku', 'A pelican.')),
      azure: fakeDescriber('azure', description('gpt-4o-mini', 'A pelican.')),
    };
    const before = faultyS3.reads(imageKey);
    const run = await runPipeline(providers, { s3: faultyS3.s3 });

    expect(savedRecord(run).status).toBe('complete');
    expect(faultyS3.reads(imageKey) - before).toBe(1);
    for (const image of [providers.bedrock.calls[0]?.image, providers.azure.calls[0]?.image]) {
      expect(Buffer.from(image!.bytes).equals(Buffer.from(pelican))).toBe(true);
    }
  });

  it('records ImageChanged for every provider when the image was replaced after the pipeline started', async () => {
    const providers = unreachedProviders();
    // The version the API saw at the start is no longer the one under the key.
    const run = await runPipeline(providers, {
      executionInput: {
        ...input,
        requestId: 'req-replaced',
        imageETag: '"0123456789abcdef0123456789abcdef"',
      },
    });

    expect(providers.sagemaker.calls).toHaveLength(0);
    expect(providers.bedrock.calls).toHaveLength(0);
    expect(run.retries).toEqual({});
    expectEveryProviderFailed(savedRecord(run), {
      code: 'ImageChanged',
      message: `${imageKey} was replaced after the pipeline started`,
    });
  });

  it('retries a task whose image read S3 failed on the way (SlowDown, a dropped connection)', async () => {
    const providers = {
      sagemaker: fakeClassifier(pelicanLabels),
      bedrock: fakeDescriber('bedrock', description('claude-3-haiku', 'A pelican.')),
      azure: fakeDescriber('azure', description('gpt-4o-mini', 'A pelican.')),
    };
    // Classify runs alone, so it takes both faults: two failed attempts, then the read goes through.
    faultyS3.failReads(
      input.imageKey,
      { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' },
      'drop-connection',
    );
    const run = await runPipeline(providers, { s3: faultyS3.s3 });

    expect(run.retries).toEqual({ [pipelineStates.classify]: 2 });
    expect(providers.sagemaker.calls).toHaveLength(1);
    const record = savedRecord(run);
    expect(record.status).toBe('complete');
    expect(record.results.sagemaker).toEqual(pelicanLabels);
  });

  it('records a read S3 refuses (AccessDenied) at once, without S3’s text', async () => {
    const providers = unreachedProviders();
    const denied = {
      status: 403,
      code: 'AccessDenied',
      message:
        'User: arn:aws:sts::111122223333:assumed-role/mc-vision-worker/fn is not authorized to perform: s3:GetObject',
    };
    faultyS3.failReads(input.imageKey, denied, denied, denied);
    const run = await runPipeline(providers, { s3: faultyS3.s3 });

    expect(run.retries).toEqual({});
    expectEveryProviderFailed(savedRecord(run), {
      code: 'AccessDenied',
      message: `${input.imageKey} could not be read from the images bucket (AccessDenied)`,
    });
  });

  it('notifies the failure and fails when the record cannot be saved', async () => {
    const providers = {
      sagemaker: fakeClassifier(pelicanLabels),
      bedrock: fakeDescriber('bedrock', description('claude-3-haiku', 'A pelican.')),
      azure: fakeDescriber('azure', description('gpt-4o-mini', 'A pelican.')),
    };
    let attempts = 0;
    const run = await runPipeline(providers, {
      saveResult: () => {
        attempts += 1;
        const error = new Error('Throughput exceeds the current capacity of your table.');
        error.name = 'DynamoDB.ProvisionedThroughputExceededException';
        throw error;
      },
    });

    expect(attempts).toBe(5);
    expect(run.published).toHaveLength(0);
    expect(run.failureNotices).toHaveLength(1);
    expect(run.failureNotices[0]).toMatchObject({
      TopicArn: resources.notifyTopicArn,
      Subject: `MC Vision: pipeline failed for ${input.requestId}`,
    });
    // The error's name and where to look, not the service's message.
    expect(run.failureNotices[0]!.Message).toBe(
      `MC Vision could not finish request ${input.requestId}: no result was saved ` +
        '(error DynamoDB.ProvisionedThroughputExceededException). ' +
        `The execution: GET /v1/pipelines/${input.requestId} (send your API key in x-api-key).`,
    );
    expect(run.output).toBeUndefined();
    expect(run.failure?.Error).toBe('DynamoDB.ProvisionedThroughputExceededException');
  });
});
