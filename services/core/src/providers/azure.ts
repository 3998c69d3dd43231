import { ApplyGuardrailCommand, type BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { AzureOpenAI } from 'openai';
import type { Config } from '../config/index.ts';
import { GuardrailIntervenedError, InvalidModelResponseError } from '../errors.ts';
import type { Description, GuardrailResult } from '../schemas.ts';
import type { GuardrailRef } from './bedrock.ts';
import { filteredCategories, mapProviderErrors, retryAfterSeconds } from './errors.ts';
import { describeFindings, readGuardrailAssessments } from './guardrail.ts';
import { prepareImage } from './image.ts';
import { estimateCostUsd } from './pricing.ts';
import { buildDescribePrompt, describeTemperature, parseDescription, type DescribedImage } from './prompt.ts';
import type { DescribeOptions, Describer, ImageInput } from './types.ts';

export type AzureClientConfig = Pick<
  Config,
  | 'AZURE_OPENAI_ENDPOINT'
  | 'AZURE_OPENAI_API_VERSION'
  | 'AZURE_OPENAI_DEPLOYMENT'
  | 'PROVIDER_MAX_ATTEMPTS'
  | 'PROVIDER_TIMEOUT_MS'
>;

/**
 * A `fetch` that stops `openai` from sleeping through a long `retry-after`.
 *
 * openai v7 retries 429/5xx itself (`maxRetries`) and sleeps for whatever `retry-after-ms`/`retry-after` says
 * when that is at most 60 s; beyond 60 s it ignores the header and retries after its own 0.5-8 s backoff,
 * which only earns another 429. Neither fits a call with a deadline: when the service asks for a wait longer
 * than `maxWaitMs` (the per-attempt timeout, and never more than the 60 s openai would honour), this marks the
 * response `x-should-retry: false`, which openai obeys, so the call fails at once as `ProviderThrottled` with
 * `retryAfterSeconds` and the caller (Step Functions' Retry, the API client) decides when to come back.
 * Shorter waits are left to openai: a retry never sleeps longer than one attempt may take.
 */
export function retryAfterCappedFetch(maxWaitMs: number, inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    if (response.ok) return response;
    const waitSeconds = retryAfterSeconds(response.headers);
    if (waitSeconds === undefined || waitSeconds * 1000 <= maxWaitMs) return response;
    const headers = new Headers(response.headers);
    headers.set('x-should-retry', 'false');
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}

/** An `AzureOpenAI` client for the configured deployment, retrying `PROVIDER_MAX_ATTEMPTS - 1` times. */
export function createAzureOpenAIClient(config: AzureClientConfig, apiKey: string): AzureOpenAI {
  // The base URL is built here rather than from `endpoint` so that stray OPENAI_BASE_URL/AZURE_OPENAI_*
  // variables in the environment cannot redirect or break the client.
  return new AzureOpenAI({
    baseURL: `${config.AZURE_OPENAI_ENDPOINT.replace(/\/+$/, '')}/openai`,
    apiKey,
    apiVersion: config.AZURE_OPENAI_API_VERSION,
    deployment: config.AZURE_OPENAI_DEPLOYMENT,
    maxRetries: config.PROVIDER_MAX_ATTEMPTS - 1,
    timeout: config.PROVIDER_TIMEOUT_MS,
    fetch: retryAfterCappedFetch(Math.min(config.PROVIDER_TIMEOUT_MS, 60_000)),
  });
}

export interface AzureDescriberOptions {
  client: AzureOpenAI;
  deployment: string;
  /** The Bedrock guardrail Azure's answers go through (`ApplyGuardrail`), the same one Bedrock uses. */
  guardrail: GuardrailRef & { client: BedrockRuntimeClient };
  maxImageEdge: number;
  maxOutputTokens: number;
  /** Images with more pixels are rejected before decoding (config `MAX_IMAGE_PIXELS`). */
  maxImagePixels?: number;
  /** Milliseconds, for `latencyMs` (default `performance.now`). */
  clock?: () => number;
}

/**
 * GPT-4o-mini (or any vision deployment) on Azure OpenAI. Its answer is checked by the Bedrock guardrail
 * through `ApplyGuardrail`, so both LLMs' descriptions meet the same policy.
 */
export function createAzureDescriber(options: AzureDescriberOptions): Describer {
  const { client, deployment, guardrail, maxImageEdge, maxOutputTokens, maxImagePixels } = options;
  const clock = options.clock ?? (() => performance.now());

  async function applyGuardrail(
    described: DescribedImage,
    signal: AbortSignal | undefined,
  ): Promise<{ described: DescribedImage; guardrail: GuardrailResult }> {
    const response = await guardrail.client.send(
      new ApplyGuardrailCommand({
        guardrailIdentifier: guardrail.id,
        guardrailVersion: guardrail.version,
        source: 'OUTPUT',
        // The parsed answer, re-serialized: masking inside JSON strings keeps it parseable.
        content: [{ text: { text: JSON.stringify(described) } }],
      }),
      { abortSignal: signal },
    );
    const reading = readGuardrailAssessments(response.assessments ?? []);
    const anonymized = reading.findings.some((finding) => finding.action === 'ANONYMIZED');
    if (response.action !== 'GUARDRAIL_INTERVENED') {
      return { described, guardrail: { action: 'NONE', findings: reading.findings } };
    }
    const masked = (response.outputs ?? []).map((output) => output.text ?? '').join('');
    if (reading.blocked || !anonymized || masked === '') {
      throw new GuardrailIntervenedError(
        'azure',
        `azure: the guardrail blocked the description (${describeFindings(reading.findings)})`,
      );
    }
    return {
      described: parseDescription('azure', masked),
      guardrail: { action: 'ANONYMIZED', findings: reading.findings },
    };
  }

  return {
    provider: 'azure',
    async describe(image: ImageInput, callOptions: DescribeOptions = {}): Promise<Description> {
      return mapProviderErrors('azure', async () => {
        const prepared = await prepareImage(image, { maxEdge: maxImageEdge, maxPixels: maxImagePixels });
        const dataUri = `data:${prepared.contentType};base64,${Buffer.from(prepared.bytes).toString('base64')}`;
        const started = clock();
        const completion = await client.chat.completions.create(
          {
            model: deployment,
            messages: [
              {
                role: 'user',
                content: [
                  { type: 'text', text: buildDescribePrompt(callOptions.hints) },
                  { type: 'image_url', image_url: { url: dataUri } },
                ],
              },
            ],
            response_format: { type: 'json_object' },
            max_tokens: maxOutputTokens,
            temperature: describeTemperature,
          },
          { signal: callOptions.signal },
        );
        const choice = completion.choices[0];
        if (!choice) {
          throw new InvalidModelResponseError('azure', 'azure: the completion has no choices');
        }
        // Azure's own content filter cut the answer short.
        if (choice.finish_reason === 'content_filter') {
          const flagged = filteredCategories(
            (choice as { content_filter_results?: unknown }).content_filter_results,
          );
          throw new GuardrailIntervenedError(
            'azure',
            `azure: Azure OpenAI's content filter stopped the answer${flagged.length > 0 ? `: ${flagged.join(', ')}` : ''}`,
          );
        }
        const checked = await applyGuardrail(
          parseDescription('azure', choice.message.content ?? ''),
          callOptions.signal,
        );
        const latencyMs = Math.round(clock() - started);

        const model = completion.model || deployment;
        const usage = {
          inputTokens: completion.usage?.prompt_tokens ?? 0,
          outputTokens: completion.usage?.completion_tokens ?? 0,
        };
        return {
          model,
          caption: checked.described.caption,
          tags: checked.described.tags,
          guardrail: checked.guardrail,
          usage,
          costUsd: estimateCostUsd(model, usage),
          latencyMs,
          // Our emulator's marker; the real service sends its own fingerprints (`fp_…`).
          emulated: completion.system_fingerprint === 'mc-vision-emulator',
        };
      });
    },
  };
}
