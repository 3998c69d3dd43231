import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  InvokeEndpointCommand,
  ModelError,
  ModelNotReadyException,
  SageMakerRuntimeClient,
  ValidationError,
} from '@aws-sdk/client-sagemaker-runtime';
import { classifierResponseSchema } from '@mc-vision/core/schemas';
import type { ImageClassifier } from '../src/classifier.ts';
import { createModelServer, startModelServer } from '../src/server.ts';
import type { RunningModelServer } from '../src/server.ts';
import { baldEagle, modelDir, pelican, postImage } from './helpers.ts';

// The real SageMaker runtime client, pointed at the server the way the local cloud points it.

let server: RunningModelServer;
let client: SageMakerRuntimeClient;

const clientFor = (endpoint: string, maxAttempts = 3) =>
  new SageMakerRuntimeClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts,
  });

beforeAll(async () => {
  server = await startModelServer({ modelDir, port: 0 });
  client = clientFor(server.url);
});
afterAll(async () => {
  client.destroy();
  await server.close();
});

async function invokeEndpoint(body: Uint8Array, customAttributes?: string) {
  const output = await client.send(
    new InvokeEndpointCommand({
      EndpointName: 'mc-vision-classifier',
      ContentType: 'image/jpeg',
      Accept: 'application/json',
      Body: body,
      CustomAttributes: customAttributes,
    }),
  );
  expect(output.ContentType).toBe('application/json');
  expect(output.InvokedProductionVariant).toBe('AllTraffic');
  return classifierResponseSchema.parse(JSON.parse(new TextDecoder().decode(output.Body)));
}

describe('InvokeEndpoint through @aws-sdk/client-sagemaker-runtime', () => {
  it('gets the same answer as a plain HTTP call to /invocations', async () => {
    for (const image of [pelican, baldEagle]) {
      const viaSdk = await invokeEndpoint(image);
      const plain = await postImage(`${server.url}/invocations`, image);
      expect(plain.status).toBe(200);
      expect(viaSdk).toEqual(plain.body);
    }
    expect((await invokeEndpoint(pelican)).labels[0]?.label).toBe('pelican');
  });

  it('passes top_k in CustomAttributes', async () => {
    const answer = await invokeEndpoint(baldEagle, 'top_k=2');
    expect(answer.labels.map((entry) => entry.label)).toContain('bald eagle');
    expect(answer.labels).toHaveLength(2);
  });

  it('raises ModelError carrying the container status for an image the model refuses', async () => {
    const error = await invokeEndpoint(Buffer.from('not an image')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelError);
    const modelError = error as ModelError;
    expect(modelError.$metadata.httpStatusCode).toBe(424);
    expect(modelError.OriginalStatusCode).toBe(415);
    expect(JSON.parse(modelError.OriginalMessage ?? '')).toMatchObject({
      error: { code: 'unsupported_media_type' },
    });
    expect(modelError.message).toContain('Received client error (415)');
  });

  it('answers ValidationError, as the runtime does, for an endpoint that is not the configured one', async () => {
    const error = await client
      .send(
        new InvokeEndpointCommand({
          EndpointName: 'someone-elses-endpoint',
          ContentType: 'image/jpeg',
          Body: pelican,
        }),
      )
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe(
      'Endpoint someone-elses-endpoint of account 000000000000 not found.',
    );
    expect((error as ValidationError).$metadata.httpStatusCode).toBe(400);

    // A server configured for another endpoint serves that one, and no longer the default.
    const named = createModelServer({
      classifier: server.classifier,
      endpointName: 'mc-vision-prod-classifier',
    });
    await new Promise<void>((resolve) => named.listen(0, '127.0.0.1', resolve));
    const namedClient = clientFor(`http://127.0.0.1:${(named.address() as { port: number }).port}`, 1);
    const invoke = (EndpointName: string) =>
      namedClient.send(new InvokeEndpointCommand({ EndpointName, ContentType: 'image/jpeg', Body: pelican }));
    try {
      const output = await invoke('mc-vision-prod-classifier');
      expect(
        classifierResponseSchema.parse(JSON.parse(new TextDecoder().decode(output.Body))).labels[0]?.label,
      ).toBe('pelican');
      await expect(invoke('mc-vision-classifier')).rejects.toBeInstanceOf(ValidationError);
    } finally {
      namedClient.destroy();
      await new Promise((resolve) => named.close(resolve));
    }
  });

  it('raises ModelNotReadyException while the model is loading', async () => {
    const http = createModelServer({ classifier: new Promise<ImageClassifier>(() => {}) });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const notReady = clientFor(`http://127.0.0.1:${(http.address() as { port: number }).port}`, 1);
    try {
      const error = await notReady
        .send(new InvokeEndpointCommand({ EndpointName: 'mc-vision-classifier', Body: pelican }))
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ModelNotReadyException);
    } finally {
      notReady.destroy();
      await new Promise((resolve) => http.close(resolve));
    }
  });
});
