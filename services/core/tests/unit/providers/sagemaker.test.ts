import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createProviders, loadConfig, type Classifier } from '../../../src/index.ts';
import { pelican } from './fixtures.ts';
import {
  awsError,
  closedPort,
  rejectionOf,
  retriedByPipeline,
  startLoopback,
  type Loopback,
} from './loopback.ts';

function classifierFor(endpoint: string, attempts = 1, timeoutMs = 30_000): Classifier {
  const config = loadConfig({
    PROVIDER_TIMEOUT_MS: String(timeoutMs),
    SAGEMAKER_RUNTIME_ENDPOINT: endpoint,
    SAGEMAKER_ENDPOINT_NAME: 'mc-vision-classifier',
    CLASSIFIER_TOP_K: '2',
    PROVIDER_MAX_ATTEMPTS: String(attempts),
  });
  let now = 0;
  // Each reading of the clock is 12 ms after the previous one: a call reads it twice.
  return createProviders(config, { clock: () => (now += 12) }).sagemaker;
}

const modelServerAnswer = {
  model: 'darknet-tiny',
  labels: [
    { label: 'goose', score: 0.01 },
    { label: 'pelican', score: 0.97 },
    { label: 'spoonbill', score: 0.02 },
  ],
};

describe('SageMaker classifier', () => {
  let sagemaker: Loopback;
  let classifier: Classifier;

  beforeAll(async () => {
    sagemaker = await startLoopback();
    classifier = classifierFor(sagemaker.url);
  });
  afterAll(() => sagemaker.close());

  it('sends the raw image bytes with top_k as a custom attribute and returns the best labels', async () => {
    sagemaker.answer(() => ({ body: modelServerAnswer }));

    const result = await classifier.classify(pelican);

    expect(result.model).toBe('darknet-tiny');
    expect(result.labels).toEqual([
      { label: 'pelican', score: 0.97 },
      { label: 'spoonbill', score: 0.02 },
    ]);
    expect(result.latencyMs).toBe(12);

    const [request] = sagemaker.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/endpoints/mc-vision-classifier/invocations');
    expect(request?.headers['content-type']).toBe('image/jpeg');
    expect(request?.headers['accept']).toBe('application/json');
    expect(request?.headers['x-amzn-sagemaker-custom-attributes']).toBe('top_k=2');
    expect(Buffer.compare(request!.body, Buffer.from(pelican.bytes))).toBe(0);
  });

  it('maps HTTP 429 with retry-after to ProviderThrottled carrying the wait', async () => {
    sagemaker.answer(() => awsError(429, 'ThrottlingException', 'Rate exceeded', { 'retry-after': '7' }));
    const error = await rejectionOf(classifier.classify(pelican));
    expect(error.name).toBe('ProviderThrottled');
    expect(error.retryAfterSeconds).toBe(7);
    expect(error.statusCode).toBe(429);
    expect(error.provider).toBe('sagemaker');
  });

  it('maps HTTP 429 without retry-after to ProviderThrottled with no wait', async () => {
    sagemaker.answer(() => awsError(429, 'ThrottlingException', 'Rate exceeded'));
    const error = await rejectionOf(classifier.classify(pelican));
    expect(error.name).toBe('ProviderThrottled');
    expect(error.retryAfterSeconds).toBeUndefined();
  });

  it('maps 503 ServiceUnavailable and 500 InternalFailure to ProviderUnavailable', async () => {
    sagemaker.answer(() => awsError(503, 'ServiceUnavailable', 'Service is unavailable'));
    expect((await rejectionOf(classifier.classify(pelican))).name).toBe('ProviderUnavailable');
    sagemaker.answer(() => awsError(500, 'InternalFailure', 'boom'));
    expect((await rejectionOf(classifier.classify(pelican))).name).toBe('ProviderUnavailable');
  });

  it("maps the container's failure (ModelError) to ProviderModelError", async () => {
    sagemaker.answer(() => awsError(424, 'ModelError', 'Received client error (415) from primary'));
    const error = await rejectionOf(classifier.classify(pelican));
    expect(error.name).toBe('ProviderModelError');
    expect(retriedByPipeline(error)).toBe(false);
  });

  it('rejects an answer that is not the model server JSON as InvalidModelResponse', async () => {
    sagemaker.answer(() => ({ headers: { 'content-type': 'text/plain' }, body: 'pelican, probably' }));
    expect((await rejectionOf(classifier.classify(pelican))).name).toBe('InvalidModelResponse');
    sagemaker.answer(() => ({ body: { model: 'darknet-tiny', labels: [{ label: 'pelican', score: 97 }] } }));
    expect((await rejectionOf(classifier.classify(pelican))).name).toBe('InvalidModelResponse');
  });

  it('maps a refused connection to ProviderUnavailable', async () => {
    const error = await rejectionOf(classifierFor(await closedPort()).classify(pelican));
    expect(error.name).toBe('ProviderUnavailable');
    expect(retriedByPipeline(error)).toBe(true);
  });

  it('maps a call that outlives PROVIDER_TIMEOUT_MS to ProviderUnavailable', async () => {
    sagemaker.answer(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      return { body: modelServerAnswer };
    });
    const error = await rejectionOf(classifierFor(sagemaker.url, 1, 100).classify(pelican));
    expect(error.name).toBe('ProviderUnavailable');
  });

  it('lets the SDK retry a 503 when configured with more attempts', async () => {
    sagemaker.answer(() =>
      sagemaker.requests.length === 1
        ? awsError(503, 'ServiceUnavailable', 'warming up')
        : { body: modelServerAnswer },
    );
    const result = await classifierFor(sagemaker.url, 2).classify(pelican);
    expect(result.labels[0]?.label).toBe('pelican');
    expect(sagemaker.requests).toHaveLength(2);
  });
});
