import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { InvalidModelResponseError } from '../errors.ts';
import { classifierResponseSchema, type Classification } from '../schemas.ts';
import { mapProviderErrors } from './errors.ts';
import type { CallOptions, Classifier, ImageInput } from './types.ts';

export interface SageMakerClassifierOptions {
  client: SageMakerRuntimeClient;
  endpointName: string;
  /** Labels to return; sent to the model server as the `top_k` custom attribute. */
  topK: number;
  /** Milliseconds, for `latencyMs` (default `performance.now`). */
  clock?: () => number;
}

/**
 * The classifier on a SageMaker endpoint. The raw image bytes go to the model server, which decodes and
 * preprocesses them itself; `top_k` travels in `X-Amzn-SageMaker-Custom-Attributes`, which SageMaker passes
 * through to the container.
 */
export function createSageMakerClassifier(options: SageMakerClassifierOptions): Classifier {
  const { client, endpointName, topK } = options;
  const clock = options.clock ?? (() => performance.now());
  return {
    provider: 'sagemaker',
    async classify(image: ImageInput, callOptions: CallOptions = {}): Promise<Classification> {
      return mapProviderErrors('sagemaker', async () => {
        const started = clock();
        const output = await client.send(
          new InvokeEndpointCommand({
            EndpointName: endpointName,
            Body: image.bytes,
            ContentType: image.contentType,
            Accept: 'application/json',
            CustomAttributes: `top_k=${topK}`,
          }),
          { abortSignal: callOptions.signal },
        );
        const latencyMs = Math.round(clock() - started);

        let body: unknown;
        try {
          body = JSON.parse(new TextDecoder().decode(output.Body));
        } catch (error) {
          throw new InvalidModelResponseError('sagemaker', 'sagemaker: the endpoint did not answer JSON', {
            cause: error,
          });
        }
        const parsed = classifierResponseSchema.safeParse(body);
        if (!parsed.success) {
          throw new InvalidModelResponseError(
            'sagemaker',
            `sagemaker: the endpoint's answer is not {model, labels}: ${parsed.error.issues[0]?.message ?? ''}`,
          );
        }
        // The container may ignore top_k: the contract is the best `topK` labels, best first.
        const labels = [...parsed.data.labels].sort((a, b) => b.score - a.score).slice(0, topK);
        return { model: parsed.data.model, labels, latencyMs };
      });
    },
  };
}
