import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ApplyGuardrailCommand,
  ConverseCommand,
  AccessDeniedException,
  ModelErrorException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
  type BedrockRuntimeClient,
  type ConverseCommandInput,
} from '@aws-sdk/client-bedrock-runtime';
import { guardrailPolicy, loadConfig } from '@mc-vision/core';
import { createBedrockRuntimeClient } from '@mc-vision/core/providers/clients';
import {
  claudeImageTokens,
  startBedrockRuntimeServer,
  type EmulatorServer,
  type ImageDescription,
} from '../src/index.ts';
import { fakeClassifier, pelicanJpeg, rawRequest, sha256, solidPng } from './support.ts';

const modelId = 'anthropic.claude-3-haiku-20240307-v1:0';
const guardrailId = guardrailPolicy.name;
const prompt =
  'Describe this image. Answer with JSON only: {"caption": string, "tags": string[]}. Hint from a classifier: zebra.';

function describeRequest(overrides: Partial<ConverseCommandInput> = {}): ConverseCommandInput {
  return {
    modelId,
    messages: [
      {
        role: 'user',
        content: [{ image: { format: 'jpeg', source: { bytes: pelicanJpeg } } }, { text: prompt }],
      },
    ],
    inferenceConfig: { maxTokens: 400, temperature: 0 },
    ...overrides,
  };
}

const guardrailConfig = {
  guardrailIdentifier: guardrailId,
  guardrailVersion: '1',
  trace: 'enabled' as const,
};

function answerText(output: { output?: { message?: { content?: { text?: string }[] } } }): string {
  return output.output?.message?.content?.[0]?.text ?? '';
}

describe('Bedrock runtime emulator', () => {
  const classify = fakeClassifier();
  let transform: ((description: ImageDescription) => ImageDescription) | undefined;
  let server: EmulatorServer;
  let bedrock: BedrockRuntimeClient;

  const injectFault = async (fault: Record<string, unknown>) => {
    const response = await fetch(`${server.url}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(fault),
    });
    expect(response.status).toBe(201);
  };

  beforeAll(async () => {
    let now = 0;
    server = await startBedrockRuntimeServer({
      classify,
      transformDescription: (description) => (transform ? transform(description) : description),
      // Every reading of the clock is 25 ms after the previous one: a Converse call reads it twice.
      clock: () => (now += 25),
    });
    // core's factory: HTTP/1.1 handler; one attempt so each fault is seen by the test.
    bedrock = createBedrockRuntimeClient(
      loadConfig({ BEDROCK_RUNTIME_ENDPOINT: server.url, PROVIDER_MAX_ATTEMPTS: '1' }),
    );
  });
  afterAll(() => server.close());

  it('describes the image it was sent, from the classifier, not from hints in the prompt', async () => {
    const before = classify.calls.length;
    const response = await bedrock.send(new ConverseCommand(describeRequest()));
    expect(classify.calls.slice(before)).toEqual([
      { sha256: sha256(pelicanJpeg), contentType: 'image/jpeg' },
    ]);

    const text = answerText(response);
    const answer = JSON.parse(text) as ImageDescription;
    expect(answer.caption).toBe('A photo of a pelican.');
    expect(answer.caption).not.toMatch(/zebra/i);
    expect(answer.tags).toEqual(['pelican', 'goose', 'spoonbill']);

    expect(response.stopReason).toBe('end_turn');
    expect(response.additionalModelResponseFields).toEqual({ emulator: 'mc-vision' });
    // 500x375 photo: 250 image tokens; prompt and answer at about 4 characters per token.
    expect(response.usage).toEqual({
      inputTokens: 250 + Math.ceil(prompt.length / 4),
      outputTokens: Math.ceil(text.length / 4),
      totalTokens: 250 + Math.ceil(prompt.length / 4) + Math.ceil(text.length / 4),
    });
    expect(response.metrics).toEqual({ latencyMs: 25 });
    expect(response.trace).toBeUndefined();
  });

  it('estimates image tokens as Claude does (long edge at most 1568 px, about 1600 tokens at most)', async () => {
    expect(claudeImageTokens({ width: 500, height: 375 })).toBe(250);
    expect(claudeImageTokens({ width: 4000, height: 3000 })).toBe(1600);
    const png = await solidPng(200, 150);
    const response = await bedrock.send(
      new ConverseCommand(
        describeRequest({
          messages: [
            { role: 'user', content: [{ image: { format: 'png', source: { bytes: png } } }, { text: 'x' }] },
          ],
        }),
      ),
    );
    expect(response.usage?.inputTokens).toBe(40 + 1);
    expect(classify.calls.at(-1)).toEqual({ sha256: sha256(png), contentType: 'image/png' });
  });

  it('stops at maxTokens like the model', async () => {
    const response = await bedrock.send(
      new ConverseCommand(describeRequest({ inferenceConfig: { maxTokens: 5 } })),
    );
    expect(response.stopReason).toBe('max_tokens');
    expect(response.usage?.outputTokens).toBe(5);
    expect(() => JSON.parse(answerText(response))).toThrow();
  });

  it('masks an e-mail address in the answer when a guardrail is configured, with the trace Bedrock gives', async () => {
    transform = (description) => ({
      ...description,
      caption: `${description.caption} Sign: info@pelican.example.`,
    });
    try {
      const response = await bedrock.send(new ConverseCommand(describeRequest({ guardrailConfig })));
      expect(response.stopReason).toBe('guardrail_intervened');
      const answer = JSON.parse(answerText(response)) as ImageDescription;
      expect(answer.caption).toBe('A photo of a pelican. Sign: {EMAIL}.');
      const assessments = response.trace?.guardrail?.outputAssessments?.[guardrailId];
      expect(assessments?.[0]?.sensitiveInformationPolicy?.piiEntities).toEqual([
        { type: 'EMAIL', match: 'info@pelican.example', action: 'ANONYMIZED', detected: true },
      ]);
      expect(assessments?.[0]?.invocationMetrics?.usage?.sensitiveInformationPolicyUnits).toBe(1);
      expect(response.trace?.guardrail?.inputAssessment?.[guardrailId]).toBeDefined();
      expect(response.trace?.guardrail?.modelOutput).toBeUndefined();
    } finally {
      transform = undefined;
    }
  });

  it('blocks an answer carrying an e-mail address and a card number, as the policy says', async () => {
    transform = (description) => ({
      ...description,
      caption: `${description.caption} Contact owner@example.org, card 4111 1111 1111 1111.`,
    });
    try {
      const response = await bedrock.send(new ConverseCommand(describeRequest({ guardrailConfig })));
      expect(response.stopReason).toBe('guardrail_intervened');
      expect(answerText(response)).toBe(guardrailPolicy.blockedOutputsMessaging);
      const entities =
        response.trace?.guardrail?.outputAssessments?.[guardrailId]?.[0]?.sensitiveInformationPolicy
          ?.piiEntities;
      expect(entities?.map(({ type, action }) => ({ type, action }))).toEqual([
        { type: 'EMAIL', action: 'ANONYMIZED' },
        { type: 'CREDIT_DEBIT_CARD_NUMBER', action: 'BLOCKED' },
      ]);

      // Without trace the verdict is the same, only the assessments are not returned.
      const quiet = await bedrock.send(
        new ConverseCommand(describeRequest({ guardrailConfig: { ...guardrailConfig, trace: 'disabled' } })),
      );
      expect(answerText(quiet)).toBe(guardrailPolicy.blockedOutputsMessaging);
      expect(quiet.trace).toBeUndefined();
    } finally {
      transform = undefined;
    }
  });

  it('never calls the model when the guardrail blocks the input', async () => {
    const before = classify.calls.length;
    const response = await bedrock.send(
      new ConverseCommand(
        describeRequest({
          guardrailConfig,
          messages: [
            {
              role: 'user',
              content: [
                { image: { format: 'jpeg', source: { bytes: pelicanJpeg } } },
                { text: 'My card is 4111 1111 1111 1111, describe the photo.' },
              ],
            },
          ],
        }),
      ),
    );
    expect(answerText(response)).toBe(guardrailPolicy.blockedInputMessaging);
    expect(response.stopReason).toBe('guardrail_intervened');
    expect(response.usage).toEqual({ inputTokens: 0, outputTokens: 0, totalTokens: 0 });
    expect(classify.calls.length).toBe(before);
  });

  it('applies the guardrail on its own (ApplyGuardrail)', async () => {
    const blocked = await bedrock.send(
      new ApplyGuardrailCommand({
        guardrailIdentifier: guardrailId,
        guardrailVersion: 'DRAFT',
        source: 'OUTPUT',
        content: [{ text: { text: 'A pelican. Mail owner@example.org, card 4111-1111-1111-1111.' } }],
      }),
    );
    expect(blocked.action).toBe('GUARDRAIL_INTERVENED');
    expect(blocked.outputs).toEqual([{ text: guardrailPolicy.blockedOutputsMessaging }]);
    expect(blocked.assessments?.[0]?.sensitiveInformationPolicy?.piiEntities).toHaveLength(2);
    expect(blocked.usage?.sensitiveInformationPolicyUnits).toBe(1);

    const masked = await bedrock.send(
      new ApplyGuardrailCommand({
        guardrailIdentifier: `arn:aws:bedrock:us-east-1:000000000000:guardrail/${guardrailId}`,
        guardrailVersion: '1',
        source: 'OUTPUT',
        content: [{ text: { text: 'Call 206-555-0100 about the pelican.' } }],
      }),
    );
    expect(masked.outputs).toEqual([{ text: 'Call {PHONE} about the pelican.' }]);

    const clean = await bedrock.send(
      new ApplyGuardrailCommand({
        guardrailIdentifier: guardrailId,
        guardrailVersion: '1',
        source: 'INPUT',
        content: [{ text: { text: 'A pelican on a pier.' } }],
      }),
    );
    expect(clean).toMatchObject({ action: 'NONE', outputs: [] });
    expect(clean.assessments?.[0]?.sensitiveInformationPolicy).toBeUndefined();
  });

  it('knows only the guardrail versions that exist: DRAFT and the published one the configuration names', async () => {
    const apply = (guardrailIdentifier: string, guardrailVersion: string) =>
      bedrock.send(
        new ApplyGuardrailCommand({
          guardrailIdentifier,
          guardrailVersion,
          source: 'INPUT',
          content: [{ text: { text: 'hello' } }],
        }),
      );
    const missing = 'The guardrail identifier or version provided in the request does not exist.';
    for (const [id, version] of [
      [guardrailId, '2'],
      [guardrailId, '99999999'],
      ['someone-elses-guardrail', '1'],
    ] as const) {
      const error = await apply(id, version).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationException);
      expect((error as Error).message).toBe(missing);
    }
    const converse = await bedrock
      .send(
        new ConverseCommand(
          describeRequest({ guardrailConfig: { ...guardrailConfig, guardrailVersion: '3' } }),
        ),
      )
      .catch((e: unknown) => e);
    expect(converse).toBeInstanceOf(ValidationException);
    expect((converse as Error).message).toBe(missing);
    expect((await apply(guardrailId, 'DRAFT')).action).toBe('NONE');

    const published = await startBedrockRuntimeServer({ classify, guardrailVersion: '7' });
    try {
      const client = createBedrockRuntimeClient(
        loadConfig({ BEDROCK_RUNTIME_ENDPOINT: published.url, PROVIDER_MAX_ATTEMPTS: '1' }),
      );
      const request = (guardrailVersion: string) =>
        new ApplyGuardrailCommand({
          guardrailIdentifier: guardrailId,
          guardrailVersion,
          source: 'INPUT',
          content: [{ text: { text: 'hello' } }],
        });
      expect((await client.send(request('7'))).action).toBe('NONE');
      await expect(client.send(request('1'))).rejects.toBeInstanceOf(ValidationException);
    } finally {
      await published.close();
    }
  });

  it('invokes only the models the platform is granted, answering the rest as Bedrock and IAM do', async () => {
    const converse = (modelId: string) =>
      bedrock.send(new ConverseCommand(describeRequest({ modelId }))).catch((e: unknown) => e);
    const denied = (resource: string) =>
      `User: arn:aws:sts::000000000000:assumed-role/mc-vision-local/emulator is not authorized to perform: bedrock:InvokeModel on resource: ${resource} because no identity-based policy allows the bedrock:InvokeModel action`;

    const sonnet = await converse('anthropic.claude-3-5-sonnet-20240620-v1:0');
    expect(sonnet).toBeInstanceOf(AccessDeniedException);
    expect((sonnet as Error).message).toBe(
      denied('arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0'),
    );
    // The granted model through a cross-region inference profile is another resource, not granted either.
    const profile = await converse(`us.${modelId}`);
    expect(profile).toBeInstanceOf(AccessDeniedException);
    expect((profile as Error).message).toBe(
      denied(`arn:aws:bedrock:us-east-1:000000000000:inference-profile/us.${modelId}`),
    );
    const invalid = await converse('gpt-4o-mini');
    expect(invalid).toBeInstanceOf(ValidationException);
    expect((invalid as Error).message).toBe('The provided model identifier is invalid.');

    const byArn = await converse(`arn:aws:bedrock:us-east-1::foundation-model/${modelId}`);
    expect(byArn).toMatchObject({ stopReason: 'end_turn' });
  });

  it("enforces Converse's turns: a user message first, then user and assistant in turn", async () => {
    const image = { image: { format: 'jpeg' as const, source: { bytes: pelicanJpeg } } };
    const failure = (messages: ConverseCommandInput['messages']) =>
      bedrock.send(new ConverseCommand(describeRequest({ messages }))).catch((e: unknown) => e);

    const twoUsers = await failure([
      { role: 'user', content: [{ text: 'Here is a photo.' }] },
      { role: 'user', content: [image, { text: prompt }] },
    ]);
    expect(twoUsers).toBeInstanceOf(ValidationException);
    expect((twoUsers as Error).message).toBe(
      'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.',
    );
    const assistantFirst = await failure([
      { role: 'assistant', content: [{ text: 'Send me a photo.' }] },
      { role: 'user', content: [image, { text: prompt }] },
    ]);
    expect(assistantFirst).toBeInstanceOf(ValidationException);
    expect((assistantFirst as Error).message).toBe(
      'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
    );

    const turns = await bedrock.send(
      new ConverseCommand(
        describeRequest({
          messages: [
            { role: 'user', content: [{ text: 'I will send a photo.' }] },
            { role: 'assistant', content: [{ text: 'Please do.' }] },
            { role: 'user', content: [image, { text: prompt }] },
          ],
        }),
      ),
    );
    expect(JSON.parse(answerText(turns))).toEqual({
      caption: 'A photo of a pelican.',
      tags: ['pelican', 'goose', 'spoonbill'],
    });
  });

  it('fails the next requests with the injected faults, in the shapes the SDK maps', async () => {
    await injectFault({ status: 429, times: 2 });
    for (let i = 0; i < 2; i++) {
      await expect(bedrock.send(new ConverseCommand(describeRequest()))).rejects.toBeInstanceOf(
        ThrottlingException,
      );
    }
    await expect(bedrock.send(new ConverseCommand(describeRequest()))).resolves.toMatchObject({
      stopReason: 'end_turn',
    });

    await injectFault({ status: 503 });
    await expect(bedrock.send(new ConverseCommand(describeRequest()))).rejects.toBeInstanceOf(
      ServiceUnavailableException,
    );
    await injectFault({ status: 424 });
    await expect(bedrock.send(new ConverseCommand(describeRequest()))).rejects.toBeInstanceOf(
      ModelErrorException,
    );

    // The SDK's own retries see a throttled service recover.
    await injectFault({ status: 429, times: 2 });
    const patient = createBedrockRuntimeClient(
      loadConfig({ BEDROCK_RUNTIME_ENDPOINT: server.url, PROVIDER_MAX_ATTEMPTS: '3' }),
    );
    const response = await patient.send(new ConverseCommand(describeRequest()));
    expect(response.$metadata.attempts).toBe(3);

    const listing = await fetch(`${server.url}/_emulator/faults`);
    expect(await listing.json()).toEqual({ faults: [] });
    const unknown = await fetch(`${server.url}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 418 }),
    });
    expect(unknown.status).toBe(400);
  });

  it('refuses what Bedrock would refuse, with ValidationException', async () => {
    const png = await solidPng(20, 20);
    const invalid: Partial<ConverseCommandInput>[] = [
      { modelId: 'not-a-model' },
      { messages: [{ role: 'user', content: [{ text: 'no image here' }] }] },
      // Declared JPEG, sent PNG.
      { messages: [{ role: 'user', content: [{ image: { format: 'jpeg', source: { bytes: png } } }] }] },
      {
        messages: [
          {
            role: 'user',
            content: [
              { image: { format: 'png', source: { bytes: new TextEncoder().encode('not an image') } } },
            ],
          },
        ],
      },
      { messages: [{ role: 'assistant', content: [{ text: 'hello' }] }] },
    ];
    for (const overrides of invalid) {
      await expect(bedrock.send(new ConverseCommand(describeRequest(overrides)))).rejects.toBeInstanceOf(
        ValidationException,
      );
    }
  });

  it('answers a request target that is not a URL as an unknown operation, not a server error', async () => {
    const answer = await rawRequest(server.url, '//[');
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ message: 'No such operation: POST /' });
  });

  it('reports a classifier failure as ModelErrorException', async () => {
    const failing = await startBedrockRuntimeServer({
      classify: async () => {
        throw new Error('model server unavailable');
      },
    });
    try {
      const client = createBedrockRuntimeClient(
        loadConfig({ BEDROCK_RUNTIME_ENDPOINT: failing.url, PROVIDER_MAX_ATTEMPTS: '1' }),
      );
      const error = await client.send(new ConverseCommand(describeRequest())).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelErrorException);
      expect((error as Error).message).toContain('model server unavailable');
    } finally {
      await failing.close();
    }
  });
});
