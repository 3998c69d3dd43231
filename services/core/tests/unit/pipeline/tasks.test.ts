import { describe, expect, it } from '@jest/globals';
import { InvalidTaskInputError, parseTaskInput, pipelineInputSchema } from '../../../src/index.ts';

const image = { requestId: 'req-1', imageKey: 'images/pelican.jpeg' };

describe('parseTaskInput', () => {
  it('accepts each task the pipeline sends', () => {
    expect(parseTaskInput({ task: 'classify', ...image })).toEqual({ task: 'classify', ...image });
    expect(parseTaskInput({ task: 'describe-bedrock', ...image })).toEqual({
      task: 'describe-bedrock',
      ...image,
      hints: [],
    });
    const hints = [{ label: 'pelican', score: 0.99 }];
    expect(parseTaskInput({ task: 'describe-azure', ...image, hints })).toMatchObject({ hints });
    const outcomes = {
      sagemaker: { result: { model: 'm', labels: hints, latencyMs: 3 } },
      bedrock: { Error: 'ProviderThrottled', Cause: '{"errorMessage":"slow down"}' },
      azure: { Error: 'States.Timeout' },
    };
    expect(parseTaskInput({ task: 'build-record', ...image, outcomes })).toMatchObject({ outcomes });
  });

  it.each([
    [{ task: 'classify', requestId: 'req-1' }, 'imageKey'],
    [{ task: 'classify', ...image, imageKey: 'uploads/x.jpeg' }, 'imageKey: must be a key under images/'],
    [{ task: 'classify', ...image, requestId: 'x'.repeat(65) }, 'requestId'],
    [{ task: 'describe-azure', ...image, hints: 'pelican' }, 'hints'],
    [{ task: 'build-record', ...image, outcomes: { sagemaker: { result: {} } } }, 'outcomes'],
    [{ task: 'delete-everything', ...image }, 'task'],
    [null, 'invalid task input'],
  ])('names what is wrong with %j', (event, expected) => {
    let caught: unknown;
    try {
      parseTaskInput(event);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidTaskInputError);
    expect((caught as Error).name).toBe('InvalidTaskInput');
    expect((caught as Error).message).toContain(expected);
  });
});

describe('pipelineInputSchema', () => {
  it('is the execution input: a requestId usable as an execution name, an image key and its version', () => {
    const pinned = { ...image, imageETag: '"9b2cf535f27731c974343645a3985328"' };
    expect(pipelineInputSchema.parse(pinned)).toEqual(pinned);
    expect(pipelineInputSchema.safeParse({ ...pinned, requestId: 'a/b' }).success).toBe(false);
    // The definition reads $.imageETag: an input without it would fail the execution, so it is refused here.
    expect(pipelineInputSchema.safeParse(image).success).toBe(false);
  });

  it('passes the version on to the tasks that read the image; a batch item’s tasks have none', () => {
    const imageETag = '"9b2cf535f27731c974343645a3985328"';
    expect(parseTaskInput({ task: 'classify', ...image, imageETag })).toEqual({
      task: 'classify',
      ...image,
      imageETag,
    });
    expect(parseTaskInput({ task: 'describe-azure', ...image })).not.toHaveProperty('imageETag');
  });
});
