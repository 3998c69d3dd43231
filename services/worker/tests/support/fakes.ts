import type {
  Classification,
  Classifier,
  DescribeOptions,
  Describer,
  Description,
  ImageInput,
  LabelScore,
  ProviderName,
} from '@mc-vision/core';

// Stand-ins for the provider clients with canned answers or scripted named errors: the pipeline tests are
// about what the state machine and the worker do with them, not about the providers.

/** The n-th call's answer; the last one repeats. */
type Script<T> = ReadonlyArray<T | Error>;

function answer<T>(script: Script<T>, call: number): T {
  const step = script[Math.min(call, script.length) - 1];
  if (step === undefined) throw new Error('empty script');
  if (step instanceof Error) throw step;
  return step;
}

export interface FakeClassifier extends Classifier {
  calls: ImageInput[];
}

export function fakeClassifier(...script: Script<Classification>): FakeClassifier {
  const calls: ImageInput[] = [];
  return {
    provider: 'sagemaker',
    calls,
    async classify(image) {
      calls.push(image);
      return answer(script, calls.length);
    },
  };
}

export interface FakeDescriber extends Describer {
  calls: { image: ImageInput; hints: LabelScore[] | undefined }[];
}

export function fakeDescriber(
  provider: Exclude<ProviderName, 'sagemaker'>,
  ...script: Script<Description>
): FakeDescriber {
  const calls: FakeDescriber['calls'] = [];
  return {
    provider,
    calls,
    async describe(image: ImageInput, options?: DescribeOptions) {
      calls.push({ image, hints: options?.hints });
      return answer(script, calls.length);
    },
  };
}

export const pelicanLabels: Classification = {
  model: 'darknet-tiny',
  labels: [
    { label: 'pelican', score: 0.99 },
    { label: 'spoonbill', score: 0.004 },
  ],
  latencyMs: 12,
};

export function description(model: string, caption: string): Description {
  return {
    model,
    caption,
    tags: ['pelican', 'bird'],
    guardrail: { action: 'NONE', findings: [] },
    usage: { inputTokens: 420, outputTokens: 31 },
    costUsd: 0.0001,
    latencyMs: 640,
    emulated: true,
  };
}
