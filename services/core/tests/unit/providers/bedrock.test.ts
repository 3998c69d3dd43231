import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { createProviders, loadConfig, type Describer } from '../../../src/index.ts';
import { pelican } from './fixtures.ts';
import {
  awsError,
  rejectionOf,
  retriedByPipeline,
  startLoopback,
  type Loopback,
  type Reply,
} from './loopback.ts';

const modelId = 'anthropic.claude-3-haiku-20240307-v1:0';

/** A Converse answer as Bedrock sends it. */
function converseReply(text: string, extra: Record<string, unknown> = {}): Reply {
  return {
    body: {
      output: { message: { role: 'assistant', content: [{ text }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 1200, outputTokens: 80, totalTokens: 1280 },
      metrics: { latencyMs: 640 },
      ...extra,
    },
  };
}

const goodAnswer = JSON.stringify({
  caption: 'A brown pelican floats on calm water.',
  tags: ['Pelican', 'bird', 'water', 'bird'],
});

interface ConverseRequestBody {
  messages: {
    role: string;
    content: { image?: { format: string; source: { bytes: string } }; text?: string }[];
  }[];
  inferenceConfig: { maxTokens: number; temperature: number };
  guardrailConfig: { guardrailIdentifier: string; guardrailVersion: string; trace: string };
}

describe('Bedrock describer', () => {
  let bedrock: Loopback;
  let describer: Describer;

  beforeAll(async () => {
    bedrock = await startLoopback();
    const config = loadConfig({
      BEDROCK_RUNTIME_ENDPOINT: bedrock.url,
      BEDROCK_MODEL_ID: modelId,
      BEDROCK_GUARDRAIL_ID: 'gr-test',
      BEDROCK_GUARDRAIL_VERSION: '3',
      LLM_IMAGE_MAX_EDGE: '256',
      LLM_MAX_OUTPUT_TOKENS: '300',
      PROVIDER_MAX_ATTEMPTS: '1',
    });
    let now = 0;
    // Each reading of the clock is 40 ms after the previous one: a call reads it twice.
    describer = createProviders(config, { clock: () => (now += 40) }).bedrock;
  });
  afterAll(() => bedrock.close());

  it('sends a downsized image, the prompt and the guardrail, and returns the description with usage and cost', async () => {
    bedrock.answer(() => converseReply(goodAnswer));

    const result = await describer.describe(pelican, { hints: [{ label: 'pelican', score: 0.97 }] });

    expect(result).toEqual({
      model: modelId,
      caption: 'A brown pelican floats on calm water.',
      tags: ['pelican', 'bird', 'water'],
      guardrail: { action: 'NONE', findings: [] },
      usage: { inputTokens: 1200, outputTokens: 80 },
      costUsd: (1200 * 0.25 + 80 * 1.25) / 1_000_000,
      latencyMs: 40,
      emulated: false,
    });

    const [request] = bedrock.requests;
    expect(decodeURIComponent(request!.url)).toBe(`/model/${modelId}/converse`);
    const body = JSON.parse(request!.body.toString()) as ConverseRequestBody;
    expect(body.guardrailConfig).toEqual({
      guardrailIdentifier: 'gr-test',
      guardrailVersion: '3',
      trace: 'enabled',
    });
    expect(body.inferenceConfig.maxTokens).toBe(300);
    expect(body.inferenceConfig.temperature).toBeLessThanOrEqual(0.3);

    const [imageBlock, textBlock] = body.messages[0]!.content;
    expect(imageBlock?.image?.format).toBe('jpeg');
    const sent = await sharp(Buffer.from(imageBlock!.image!.source.bytes, 'base64')).metadata();
    expect(sent.format).toBe('jpeg');
    expect([sent.width, sent.height]).toEqual([256, 192]);
    expect(textBlock?.text).toContain('{"caption": string, "tags": string[]}');
    expect(textBlock?.text).toContain('pelican (0.97)');
  });

  it('marks the result emulated only when the local emulator says so', async () => {
    bedrock.answer(() =>
      converseReply(goodAnswer, { additionalModelResponseFields: { emulator: 'mc-vision' } }),
    );
    expect((await describer.describe(pelican)).emulated).toBe(true);
    bedrock.answer(() =>
      converseReply(goodAnswer, { additionalModelResponseFields: { stop_sequence: null } }),
    );
    expect((await describer.describe(pelican)).emulated).toBe(false);
  });

  it('reads JSON wrapped in prose and code fences', async () => {
    bedrock.answer(() =>
      converseReply(`Here is the description:\n\`\`\`json\n${goodAnswer}\n\`\`\`\nHope it helps!`),
    );
    expect((await describer.describe(pelican)).caption).toBe('A brown pelican floats on calm water.');
  });

  it.each([
    ['prose', 'A pelican sitting on the water.'],
    ['broken JSON', '{"caption": "A pelican", "tags": ["bird"'],
    ['the wrong shape', '{"description": "A pelican", "keywords": ["bird"]}'],
  ])('rejects %s as InvalidModelResponse', async (_case, text) => {
    bedrock.answer(() => converseReply(text));
    const error = await rejectionOf(describer.describe(pelican));
    expect(error.name).toBe('InvalidModelResponse');
    expect(error.provider).toBe('bedrock');
  });

  it('returns the masked description when the guardrail anonymizes personal data', async () => {
    bedrock.answer(() =>
      converseReply(JSON.stringify({ caption: 'A sign reading {EMAIL}, held by {NAME}.', tags: ['sign'] }), {
        stopReason: 'guardrail_intervened',
        trace: {
          guardrail: {
            modelOutput: [
              '{"caption": "A sign reading jo@example.com, held by Jo Bloggs.", "tags": ["sign"]}',
            ],
            outputAssessments: {
              'gr-test': [
                {
                  sensitiveInformationPolicy: {
                    piiEntities: [
                      { match: 'jo@example.com', type: 'EMAIL', action: 'ANONYMIZED', detected: true },
                      { match: 'Jo Bloggs', type: 'NAME', action: 'ANONYMIZED', detected: true },
                    ],
                    regexes: [],
                  },
                },
              ],
            },
          },
        },
      }),
    );

    const result = await describer.describe(pelican);

    expect(result.caption).toBe('A sign reading {EMAIL}, held by {NAME}.');
    expect(result.guardrail).toEqual({
      action: 'ANONYMIZED',
      findings: [
        { policy: 'pii', type: 'EMAIL', action: 'ANONYMIZED' },
        { policy: 'pii', type: 'NAME', action: 'ANONYMIZED' },
      ],
    });
  });

  it('throws GuardrailIntervened when the guardrail blocks', async () => {
    bedrock.answer(() =>
      converseReply('This description was blocked by the MC Vision guardrail.', {
        stopReason: 'guardrail_intervened',
        trace: {
          guardrail: {
            outputAssessments: {
              'gr-test': [
                {
                  sensitiveInformationPolicy: {
                    piiEntities: [
                      { match: '4111 1111 1111 1111', type: 'CREDIT_DEBIT_CARD_NUMBER', action: 'BLOCKED' },
                    ],
                    regexes: [],
                  },
                  contentPolicy: {
                    filters: [
                      { type: 'VIOLENCE', confidence: 'HIGH', filterStrength: 'MEDIUM', action: 'BLOCKED' },
                    ],
                  },
                },
              ],
            },
          },
        },
      }),
    );
    const error = await rejectionOf(describer.describe(pelican));
    expect(error.name).toBe('GuardrailIntervened');
    expect(error.message).toContain('pii:CREDIT_DEBIT_CARD_NUMBER:BLOCKED');
    expect(error.message).toContain('content:VIOLENCE:BLOCKED');
    expect(retriedByPipeline(error)).toBe(false);
  });

  it('treats an intervention without a readable trace as a block', async () => {
    bedrock.answer(() =>
      converseReply('This request was blocked by the MC Vision guardrail.', {
        stopReason: 'guardrail_intervened',
      }),
    );
    expect((await rejectionOf(describer.describe(pelican))).name).toBe('GuardrailIntervened');
  });

  it('maps HTTP 429 with and without retry-after to ProviderThrottled', async () => {
    bedrock.answer(() => awsError(429, 'ThrottlingException', 'Too many requests', { 'retry-after': '12' }));
    let error = await rejectionOf(describer.describe(pelican));
    expect(error.name).toBe('ProviderThrottled');
    expect(error.retryAfterSeconds).toBe(12);

    bedrock.answer(() => awsError(429, 'ThrottlingException', 'Too many requests'));
    error = await rejectionOf(describer.describe(pelican));
    expect(error.name).toBe('ProviderThrottled');
    expect(error.retryAfterSeconds).toBeUndefined();
  });

  it.each([
    [500, 'InternalServerException'],
    [503, 'ServiceUnavailableException'],
    [429, 'ModelNotReadyException'],
    [408, 'ModelTimeoutException'],
  ])('maps %i %s to ProviderUnavailable', async (status, type) => {
    bedrock.answer(() => awsError(status, type, 'try again later'));
    expect((await rejectionOf(describer.describe(pelican))).name).toBe('ProviderUnavailable');
  });

  it.each([
    [400, 'ValidationException'],
    [403, 'AccessDeniedException'],
    [424, 'ModelErrorException'],
  ])('maps %i %s to ProviderModelError', async (status, type) => {
    bedrock.answer(() => awsError(status, type, 'no'));
    expect((await rejectionOf(describer.describe(pelican))).name).toBe('ProviderModelError');
  });

  it("keeps Bedrock's own text (which names the account and role) out of the message", async () => {
    const denied =
      'User: arn:aws:sts::123456789012:assumed-role/mc-vision-api/fn is not authorized to perform: ' +
      'bedrock:InvokeModel on resource: arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude';
    bedrock.answer(() => awsError(403, 'AccessDeniedException', denied));
    const error = await rejectionOf(describer.describe(pelican));
    expect(error).toMatchObject({
      name: 'ProviderModelError',
      message: 'bedrock: access denied (AccessDeniedException)',
    });
    expect((error.cause as Error).message).toBe(denied);
  });

  it('rejects an undecodable image as InvalidImage without calling Bedrock', async () => {
    bedrock.answer(() => converseReply(goodAnswer));
    const error = await rejectionOf(
      describer.describe({ bytes: new TextEncoder().encode('not an image'), contentType: 'image/jpeg' }),
    );
    expect(error.name).toBe('InvalidImage');
    expect(bedrock.requests).toHaveLength(0);
  });
});
