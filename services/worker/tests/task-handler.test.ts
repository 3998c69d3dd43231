import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig, ProviderThrottledError, type Classification } from '@mc-vision/core';
import { createTaskHandler } from '../src/index.ts';
import { description, fakeClassifier, fakeDescriber, pelicanLabels } from './support/fakes.ts';
import { fixtureImage, startLocalS3, type LocalS3 } from './support/s3.ts';

const pelican = fixtureImage('pelican.jpeg');
// Only the signature matters here: the worker sniffs the type, the (fake) provider would decode.
const pngBytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48]);

let s3: LocalS3;
beforeAll(async () => {
  s3 = await startLocalS3();
  await s3.put('images/pelican.jpeg', pelican, 'image/jpeg');
  await s3.put('images/mislabelled.png', pngBytes, 'application/octet-stream');
  await s3.put('images/notes.txt', new TextEncoder().encode('not an image'), 'image/jpeg');
});
afterAll(async () => {
  await s3?.close();
});

function handlerWith(classifier = fakeClassifier(pelicanLabels), config = s3.config) {
  const providers = {
    sagemaker: classifier,
    bedrock: fakeDescriber('bedrock', description('claude-3-haiku', 'A pelican.')),
    azure: fakeDescriber('azure', description('gpt-4o-mini', 'A pelican.')),
  };
  return { handle: createTaskHandler({ config, s3: s3.s3, providers }), providers };
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('task input validation', () => {
  const valid = { task: 'classify', requestId: 'req-1', imageKey: 'images/pelican.jpeg' };

  it.each([
    ['no task', { requestId: 'req-1', imageKey: 'images/pelican.jpeg' }],
    ['an unknown task', { ...valid, task: 'describe-everything' }],
    ['a key outside images/', { ...valid, imageKey: '../secrets/key.pem' }],
    ['a requestId that is no execution name', { ...valid, requestId: 'has spaces' }],
    ['malformed hints', { ...valid, task: 'describe-bedrock', hints: [{ label: 'x', score: 7 }] }],
    ['a build-record without outcomes', { ...valid, task: 'build-record' }],
    ['not an object', 'classify images/pelican.jpeg'],
  ])('rejects %s as InvalidTaskInput without calling a provider', async (_, event) => {
    const { handle, providers } = handlerWith();
    const error = await errorOf(handle(event));
    expect(error.name).toBe('InvalidTaskInput');
    expect(error.message).toMatch(/^invalid task input: /);
    expect(providers.sagemaker.calls).toHaveLength(0);
    expect(providers.bedrock.calls).toHaveLength(0);
  });

  it('names the offending field', async () => {
    const { handle } = handlerWith();
    const error = await errorOf(handle({ ...valid, imageKey: '../secrets/key.pem' }));
    expect(error.message).toContain('imageKey: must be a key under images/');
  });
});

describe('task handler', () => {
  it('classifies the image read from S3', async () => {
    const { handle, providers } = handlerWith();
    const output = await handle({ task: 'classify', requestId: 'req-1', imageKey: 'images/pelican.jpeg' });
    expect(output).toEqual(pelicanLabels);
    expect(Buffer.from(providers.sagemaker.calls[0]!.bytes).equals(Buffer.from(pelican))).toBe(true);
  });

  it('passes hints to a describer only when there are some', async () => {
    const { handle, providers } = handlerWith();
    const task = { task: 'describe-azure', requestId: 'req-1', imageKey: 'images/pelican.jpeg' };
    await handle({ ...task, hints: pelicanLabels.labels });
    await handle({ ...task, hints: [] });
    expect(providers.azure.calls.map((call) => call.hints)).toEqual([pelicanLabels.labels, undefined]);
  });

  it('takes the content type from the bytes, not from the stored ContentType', async () => {
    const { handle, providers } = handlerWith();
    await handle({ task: 'classify', requestId: 'req-1', imageKey: 'images/mislabelled.png' });
    expect(providers.sagemaker.calls[0]!.contentType).toBe('image/png');

    const error = await errorOf(
      handle({ task: 'classify', requestId: 'req-1', imageKey: 'images/notes.txt' }),
    );
    expect(error.name).toBe('InvalidImage');
    expect(providers.sagemaker.calls).toHaveLength(1);
  });

  it('names a missing image ImageNotFound', async () => {
    const { handle } = handlerWith();
    const error = await errorOf(
      handle({ task: 'describe-bedrock', requestId: 'req-1', imageKey: 'images/gone.jpeg' }),
    );
    expect(error.name).toBe('ImageNotFound');
    expect(error.message).toBe('no image at images/gone.jpeg');
  });

  it('refuses an image larger than MAX_IMAGE_BYTES before sending it anywhere', async () => {
    const small = loadConfig({ S3_ENDPOINT: s3.config.S3_ENDPOINT, MAX_IMAGE_BYTES: '1024' });
    const { handle, providers } = handlerWith(fakeClassifier(pelicanLabels), small);
    const error = await errorOf(
      handle({ task: 'classify', requestId: 'req-1', imageKey: 'images/pelican.jpeg' }),
    );
    expect(error.name).toBe('InvalidImage');
    expect(error.message).toContain(`${pelican.byteLength} bytes, more than 1024`);
    expect(providers.sagemaker.calls).toHaveLength(0);
  });

  it("rethrows a provider's named error as it is, for Step Functions to match", async () => {
    const throttled = new ProviderThrottledError('sagemaker', 'sagemaker: slow down');
    const { handle } = handlerWith(fakeClassifier(throttled));
    const error = await errorOf(
      handle({ task: 'classify', requestId: 'req-1', imageKey: 'images/pelican.jpeg' }),
    );
    expect(error).toBe(throttled);
    expect(error.name).toBe('ProviderThrottled');
  });

  it('names a provider result that does not fit the record InvalidModelResponse', async () => {
    const broken = { model: 'm', labels: [{ label: 'pelican', score: 3 }], latencyMs: 1 } as Classification;
    const { handle } = handlerWith(fakeClassifier(broken));
    const error = await errorOf(
      handle({ task: 'classify', requestId: 'req-1', imageKey: 'images/pelican.jpeg' }),
    );
    expect(error.name).toBe('InvalidModelResponse');
  });
});
