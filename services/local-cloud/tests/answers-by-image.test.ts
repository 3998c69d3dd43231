import { describe, expect, it } from '@jest/globals';
import type { ClassifierResponse } from '@mc-vision/core';
import { answersByImage } from '../src/model.ts';

// The LLM emulators of a pipeline describe the same image: they share one classification of its bytes.

function countingClassifier() {
  const calls: number[] = [];
  let fail = false;
  const classify = async (bytes: Uint8Array): Promise<ClassifierResponse> => {
    calls.push(bytes[0]!);
    if (fail) throw new Error('model stopped');
    return { model: 'test', labels: [{ label: `first byte ${bytes[0]}`, score: 1 }] };
  };
  return { calls, classify, failNext: (value: boolean) => (fail = value) };
}

describe('answersByImage', () => {
  it('classifies the same bytes once, for callers together and after', async () => {
    const model = countingClassifier();
    const { classify } = answersByImage(model.classify);
    const image = Uint8Array.from([7, 1, 2, 3]);
    const [a, b] = await Promise.all([classify(image), classify(Uint8Array.from(image))]);
    expect(a).toEqual({ model: 'test', labels: [{ label: 'first byte 7', score: 1 }] });
    expect(b).toEqual(a);
    await classify(image);
    expect(model.calls).toEqual([7]);
  });

  it('classifies different bytes separately', async () => {
    const model = countingClassifier();
    const { classify } = answersByImage(model.classify);
    await classify(Uint8Array.from([1, 0]));
    await classify(Uint8Array.from([2, 0]));
    await classify(Uint8Array.from([1, 0, 0]));
    expect(model.calls).toEqual([1, 2, 1]);
  });

  it('does not keep a failure: the next call classifies again', async () => {
    const model = countingClassifier();
    const { classify } = answersByImage(model.classify);
    const image = Uint8Array.from([9]);
    model.failNext(true);
    await expect(classify(image)).rejects.toThrow('model stopped');
    model.failNext(false);
    await expect(classify(image)).resolves.toMatchObject({ model: 'test' });
    expect(model.calls).toEqual([9, 9]);
  });

  it("answers from what the model server told SageMaker's caller, without classifying again", async () => {
    const model = countingClassifier();
    const answers = answersByImage(model.classify);
    const image = Uint8Array.from([5, 5]);
    const told = { model: 'test', labels: [{ label: 'pelican', score: 0.9 }] };
    answers.remember(image, told);
    await expect(answers.classify(Uint8Array.from(image))).resolves.toEqual(told);
    expect(model.calls).toEqual([]);
  });

  it('forgets the least recently used image beyond the ones it keeps', async () => {
    const model = countingClassifier();
    const { classify } = answersByImage(model.classify);
    for (let i = 0; i < 65; i++) await classify(Uint8Array.from([i % 256, i]));
    await classify(Uint8Array.from([0, 0])); // the first one, forgotten
    await classify(Uint8Array.from([64, 64])); // the last one, kept
    expect(model.calls).toHaveLength(66);
  });
});
