import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { createAzureDescriber, createAzureOpenAIClient } from '../../../src/providers/azure.ts';
import { createBedrockRuntimeClient } from '../../../src/providers/clients.ts';
import { createProviders, loadConfig, type ConfigInput, type Describer } from '../../../src/index.ts';
import { pelican } from './fixtures.ts';
import {
  awsError,
  rejectionOf,
  retriedByPipeline,
  startLoopback,
  type Loopback,
  type RecordedRequest,
  type Reply,
} from './loopback.ts';

// One loopback server plays both services the Azure describer talks to: Azure OpenAI chat completions
// (`/openai/deployments/...`) and Bedrock ApplyGuardrail (`/guardrail/...`).

const apiKey = 'test-azure-key-0123456789';

function completion(content: string, extra: Record<string, unknown> = {}): Reply {
  return {
    body: {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      created: 1_764_000_000,
      model: 'gpt-4o-mini-2024-07-18',
      system_fingerprint: 'fp_f3927aa00d',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 900, completion_tokens: 60, total_tokens: 960 },
      ...extra,
    },
  };
}

function azureError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Reply {
  return { status, headers, body: { error: { code, message, param: null, type: null } } };
}

const guardrailUsage = {
  topicPolicyUnits: 0,
  contentPolicyUnits: 1,
  wordPolicyUnits: 1,
  sensitiveInformationPolicyUnits: 1,
  sensitiveInformationPolicyFreeUnits: 0,
  contextualGroundingPolicyUnits: 0,
};

const guardrailPasses: Reply = {
  body: { usage: guardrailUsage, action: 'NONE', outputs: [], assessments: [{}] },
};

const goodAnswer = JSON.stringify({
  caption: 'A pelican rests on the water.',
  tags: ['pelican', 'bird', 'water'],
});

interface ChatRequestBody {
  model: string;
  messages: { role: string; content: { type: string; text?: string; image_url?: { url: string } }[] }[];
  response_format: { type: string };
  max_tokens: number;
  temperature: number;
}

describe('Azure OpenAI describer', () => {
  let cloud: Loopback;
  let baseConfig: ConfigInput;

  /** Routes requests to the Azure or the guardrail handler by path. */
  function answer(azure: (request: RecordedRequest) => Reply, guardrail: Reply = guardrailPasses) {
    cloud.answer((request) => (request.url.startsWith('/guardrail/') ? guardrail : azure(request)));
  }
  const azureRequests = () => cloud.requests.filter((r) => r.url.startsWith('/openai/'));
  const guardrailRequests = () => cloud.requests.filter((r) => r.url.startsWith('/guardrail/'));

  function describerWith(
    overrides: Partial<ConfigInput> = {},
    azureApiKey?: () => Promise<string>,
  ): Describer {
    let now = 0;
    return createProviders(loadConfig({ ...baseConfig, ...overrides } as Record<string, string>), {
      azureApiKey,
      // Each reading of the clock is 30 ms after the previous one: a call reads it twice.
      clock: () => (now += 30),
    }).azure;
  }

  beforeAll(async () => {
    cloud = await startLoopback();
    baseConfig = {
      AZURE_OPENAI_ENDPOINT: `${cloud.url}/`,
      AZURE_OPENAI_DEPLOYMENT: 'gpt-4o-mini',
      AZURE_OPENAI_API_VERSION: '2024-10-21',
      AZURE_OPENAI_API_KEY: apiKey,
      BEDROCK_RUNTIME_ENDPOINT: cloud.url,
      BEDROCK_GUARDRAIL_ID: 'gr-test',
      BEDROCK_GUARDRAIL_VERSION: '3',
      LLM_IMAGE_MAX_EDGE: '256',
      LLM_MAX_OUTPUT_TOKENS: '300',
      PROVIDER_MAX_ATTEMPTS: '1',
    };
  });
  afterAll(() => cloud.close());

  it('sends a downsized image as a data URI, checks the answer with the guardrail and returns the description', async () => {
    answer(() => completion(goodAnswer));

    const result = await describerWith().describe(pelican, { hints: [{ label: 'pelican', score: 0.99 }] });

    expect(result).toEqual({
      model: 'gpt-4o-mini-2024-07-18',
      caption: 'A pelican rests on the water.',
      tags: ['pelican', 'bird', 'water'],
      guardrail: { action: 'NONE', findings: [] },
      usage: { inputTokens: 900, outputTokens: 60 },
      costUsd: (900 * 0.15 + 60 * 0.6) / 1_000_000,
      latencyMs: 30,
      emulated: false,
    });

    const [chat] = azureRequests();
    expect(chat?.url).toBe('/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21');
    expect(chat?.headers['api-key']).toBe(apiKey);
    const body = JSON.parse(chat!.body.toString()) as ChatRequestBody;
    expect(body.response_format).toEqual({ type: 'json_object' });
    expect(body.max_tokens).toBe(300);
    const text = body.messages[0]!.content.find((part) => part.type === 'text')?.text;
    expect(text).toContain('JSON');
    expect(text).toContain('pelican (0.99)');
    const url = body.messages[0]!.content.find((part) => part.type === 'image_url')?.image_url?.url ?? '';
    expect(url.startsWith('data:image/jpeg;base64,')).toBe(true);
    const sent = await sharp(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')).metadata();
    expect([sent.format, sent.width, sent.height]).toEqual(['jpeg', 256, 192]);

    const [guard] = guardrailRequests();
    expect(guard?.url).toBe('/guardrail/gr-test/version/3/apply');
    const guarded = JSON.parse(guard!.body.toString()) as {
      source: string;
      content: { text: { text: string } }[];
    };
    expect(guarded.source).toBe('OUTPUT');
    expect(JSON.parse(guarded.content[0]!.text.text)).toEqual(JSON.parse(goodAnswer));
  });

  it('marks the result emulated only for the local emulator fingerprint', async () => {
    answer(() => completion(goodAnswer, { system_fingerprint: 'mc-vision-emulator' }));
    expect((await describerWith().describe(pelican)).emulated).toBe(true);
  });

  it('uses the masked text when the guardrail anonymizes personal data', async () => {
    answer(() => completion(JSON.stringify({ caption: 'A note signed by Jo Bloggs.', tags: ['note'] })), {
      body: {
        usage: guardrailUsage,
        action: 'GUARDRAIL_INTERVENED',
        outputs: [{ text: JSON.stringify({ caption: 'A note signed by {NAME}.', tags: ['note'] }) }],
        assessments: [
          {
            sensitiveInformationPolicy: {
              piiEntities: [{ match: 'Jo Bloggs', type: 'NAME', action: 'ANONYMIZED', detected: true }],
              regexes: [],
            },
          },
        ],
      },
    });

    const result = await describerWith().describe(pelican);

    expect(result.caption).toBe('A note signed by {NAME}.');
    expect(result.guardrail).toEqual({
      action: 'ANONYMIZED',
      findings: [{ policy: 'pii', type: 'NAME', action: 'ANONYMIZED' }],
    });
  });

  it('throws GuardrailIntervened when the guardrail blocks', async () => {
    answer(() => completion(goodAnswer), {
      body: {
        usage: guardrailUsage,
        action: 'GUARDRAIL_INTERVENED',
        outputs: [{ text: 'This description was blocked by the MC Vision guardrail.' }],
        assessments: [
          {
            wordPolicy: {
              customWords: [],
              managedWordLists: [{ match: 'darn', type: 'PROFANITY', action: 'BLOCKED' }],
            },
          },
        ],
      },
    });
    const error = await rejectionOf(describerWith().describe(pelican));
    expect(error.name).toBe('GuardrailIntervened');
    expect(error.message).toContain('word:PROFANITY:BLOCKED');
  });

  it("throws GuardrailIntervened when Azure's own content filter stops the answer or the prompt", async () => {
    answer(() =>
      completion('', {
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: null },
            finish_reason: 'content_filter',
            content_filter_results: {
              hate: { filtered: false, severity: 'safe' },
              sexual: { filtered: false, severity: 'low' },
              violence: { filtered: true, severity: 'high' },
            },
          },
        ],
      }),
    );
    expect(await rejectionOf(describerWith().describe(pelican))).toMatchObject({
      name: 'GuardrailIntervened',
      message: "azure: Azure OpenAI's content filter stopped the answer: violence high",
    });

    answer(() => ({
      status: 400,
      headers: {},
      body: {
        error: {
          message:
            "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
          type: null,
          param: 'prompt',
          code: 'content_filter',
          status: 400,
          innererror: {
            code: 'ResponsibleAIPolicyViolation',
            content_filter_result: {
              hate: { filtered: true, severity: 'medium' },
              jailbreak: { filtered: true, detected: true },
              violence: { filtered: false, severity: 'safe' },
            },
          },
        },
      },
    }));
    expect(await rejectionOf(describerWith().describe(pelican))).toMatchObject({
      name: 'GuardrailIntervened',
      message: 'azure: the content filter blocked the request: hate medium, jailbreak (400 content_filter)',
    });
  });

  it.each([
    ['prose', 'A pelican on the water.'],
    ['broken JSON', '{"caption": "A pelican", "tags": '],
    ['the wrong shape', '{"caption": ["A pelican"], "tags": "bird"}'],
  ])('rejects %s as InvalidModelResponse without calling the guardrail', async (_case, content) => {
    answer(() => completion(content));
    const error = await rejectionOf(describerWith().describe(pelican));
    expect(error.name).toBe('InvalidModelResponse');
    expect(guardrailRequests()).toHaveLength(0);
  });

  it('maps HTTP 429 with retry-after to ProviderThrottled carrying the wait', async () => {
    answer(() => azureError(429, '429', 'Rate limit is exceeded.', { 'retry-after': '17' }));
    const error = await rejectionOf(describerWith().describe(pelican));
    expect(error.name).toBe('ProviderThrottled');
    expect(error.retryAfterSeconds).toBe(17);
    expect(error.provider).toBe('azure');
  });

  it('maps HTTP 429 without retry-after to ProviderThrottled with no wait', async () => {
    answer(() => azureError(429, '429', 'Rate limit is exceeded.'));
    const error = await rejectionOf(describerWith().describe(pelican));
    expect(error.name).toBe('ProviderThrottled');
    expect(error.retryAfterSeconds).toBeUndefined();
  });

  it('fails at once instead of sleeping through a retry-after longer than the timeout', async () => {
    // Without the cap, openai ignores a wait over 60 s and retries twice more after its own short backoff.
    answer(() => azureError(429, '429', 'Rate limit is exceeded.', { 'retry-after': '3600' }));
    const error = await rejectionOf(describerWith({ PROVIDER_MAX_ATTEMPTS: '3' }).describe(pelican));
    expect(error.name).toBe('ProviderThrottled');
    expect(error.retryAfterSeconds).toBe(3600);
    expect(azureRequests()).toHaveLength(1);
  });

  it('lets openai retry after a short retry-after when attempts remain', async () => {
    answer(() =>
      azureRequests().length === 1
        ? azureError(429, '429', 'Rate limit is exceeded.', { 'retry-after': '0' })
        : completion(goodAnswer),
    );
    const result = await describerWith({ PROVIDER_MAX_ATTEMPTS: '2' }).describe(pelican);
    expect(result.caption).toBe('A pelican rests on the water.');
    expect(azureRequests()).toHaveLength(2);
  });

  it('maps 5xx to ProviderUnavailable and 401 to ProviderModelError', async () => {
    answer(() => azureError(503, 'ServiceUnavailable', 'The service is temporarily unavailable.'));
    expect((await rejectionOf(describerWith().describe(pelican))).name).toBe('ProviderUnavailable');
    answer(() => azureError(401, '401', 'Access denied due to invalid subscription key.'));
    expect((await rejectionOf(describerWith().describe(pelican))).name).toBe('ProviderModelError');
  });

  it('maps a call that outlives PROVIDER_TIMEOUT_MS to ProviderUnavailable', async () => {
    cloud.answer(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      return completion(goodAnswer);
    });
    const error = await rejectionOf(describerWith({ PROVIDER_TIMEOUT_MS: '100' }).describe(pelican));
    expect(error.name).toBe('ProviderUnavailable');
  });

  it('maps a throttled guardrail check to ProviderThrottled for azure', async () => {
    answer(() => completion(goodAnswer), awsError(429, 'ThrottlingException', 'Too many requests'));
    const error = await rejectionOf(describerWith().describe(pelican));
    expect(error.name).toBe('ProviderThrottled');
    expect(error.provider).toBe('azure');
  });

  it('reads the key from the given reader, and fails the call (not construction) when there is none', async () => {
    answer(() => completion(goodAnswer));
    await describerWith({}, async () => 'key-from-secrets-manager').describe(pelican);
    expect(azureRequests()[0]?.headers['api-key']).toBe('key-from-secrets-manager');

    answer(() => completion(goodAnswer));
    const withoutKey = describerWith({ AZURE_OPENAI_API_KEY: undefined });
    const error = await rejectionOf(withoutKey.describe(pelican));
    expect(error.name).toBe('ProviderMisconfigured');
    expect(error.message).toContain('AZURE_OPENAI_API_KEY');
    // An empty key secret is the same mistake: named, so the pipeline records it instead of retrying.
    const emptySecret = await rejectionOf(describerWith({}, async () => '').describe(pelican));
    expect(emptySecret.name).toBe('ProviderMisconfigured');
    expect(retriedByPipeline(emptySecret)).toBe(false);
    expect(azureRequests()).toHaveLength(0);
  });

  it('can be built directly from an AzureOpenAI client', async () => {
    answer(() => completion(goodAnswer));
    const config = loadConfig(baseConfig as Record<string, string>);
    const describer = createAzureDescriber({
      client: createAzureOpenAIClient(config, apiKey),
      deployment: 'gpt-4o-mini',
      guardrail: { client: createBedrockRuntimeClient(config), id: 'gr-test', version: '3' },
      maxImageEdge: 128,
      maxOutputTokens: 100,
    });
    await describer.describe(pelican);
    const body = JSON.parse(azureRequests()[0]!.body.toString()) as ChatRequestBody;
    const url = body.messages[0]!.content.find((part) => part.type === 'image_url')?.image_url?.url ?? '';
    const sent = await sharp(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')).metadata();
    expect(Math.max(sent.width, sent.height)).toBe(128);
  });
});
