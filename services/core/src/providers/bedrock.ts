import {
  ConverseCommand,
  type BedrockRuntimeClient,
  type ConverseResponse,
  type GuardrailAssessment,
} from '@aws-sdk/client-bedrock-runtime';
import { GuardrailIntervenedError } from '../errors.ts';
import type { Description, GuardrailResult } from '../schemas.ts';
import { mapProviderErrors } from './errors.ts';
import { describeFindings, readGuardrailAssessments } from './guardrail.ts';
import { prepareImage } from './image.ts';
import { estimateCostUsd } from './pricing.ts';
import { buildDescribePrompt, describeTemperature, parseDescription } from './prompt.ts';
import type { DescribeOptions, Describer, ImageInput } from './types.ts';

export interface GuardrailRef {
  id: string;
  version: string;
}

export interface BedrockDescriberOptions {
  client: BedrockRuntimeClient;
  modelId: string;
  guardrail: GuardrailRef;
  maxImageEdge: number;
  maxOutputTokens: number;
  /** Images with more pixels are rejected before decoding (config `MAX_IMAGE_PIXELS`). */
  maxImagePixels?: number;
  /** Milliseconds, for `latencyMs` (default `performance.now`). */
  clock?: () => number;
}

/** Our local emulators mark what they produce; the real services never send this marker. */
function isEmulated(fields: unknown): boolean {
  return (
    typeof fields === 'object' &&
    fields !== null &&
    (fields as Record<string, unknown>).emulator === 'mc-vision'
  );
}

function traceAssessments(response: ConverseResponse): GuardrailAssessment[] {
  const trace = response.trace?.guardrail;
  return [
    ...Object.values(trace?.inputAssessment ?? {}),
    ...Object.values(trace?.outputAssessments ?? {}).flat(),
  ];
}

/**
 * Claude (or any Converse vision model) on Bedrock, behind a Bedrock guardrail. A guardrail that masks
 * personal data lets the masked description through (`guardrail.action: ANONYMIZED`); one that blocks throws
 * `GuardrailIntervenedError`.
 */
export function createBedrockDescriber(options: BedrockDescriberOptions): Describer {
  const { client, modelId, guardrail, maxImageEdge, maxOutputTokens, maxImagePixels } = options;
  const clock = options.clock ?? (() => performance.now());
  return {
    provider: 'bedrock',
    async describe(image: ImageInput, callOptions: DescribeOptions = {}): Promise<Description> {
      return mapProviderErrors('bedrock', async () => {
        const prepared = await prepareImage(image, { maxEdge: maxImageEdge, maxPixels: maxImagePixels });
        const started = clock();
        const response = await client.send(
          new ConverseCommand({
            modelId,
            messages: [
              {
                role: 'user',
                content: [
                  { image: { format: prepared.format, source: { bytes: prepared.bytes } } },
                  { text: buildDescribePrompt(callOptions.hints) },
                ],
              },
            ],
            inferenceConfig: { maxTokens: maxOutputTokens, temperature: describeTemperature },
            guardrailConfig: {
              guardrailIdentifier: guardrail.id,
              guardrailVersion: guardrail.version,
              trace: 'enabled',
            },
          }),
          { abortSignal: callOptions.signal },
        );
        const latencyMs = Math.round(clock() - started);

        const reading = readGuardrailAssessments(traceAssessments(response));
        const anonymized = reading.findings.some((finding) => finding.action === 'ANONYMIZED');
        const intervened = response.stopReason === 'guardrail_intervened';
        // An intervention we cannot read as masking is treated as a block: the text is then the guardrail's
        // "blocked" message, not a description.
        if (reading.blocked || (intervened && !anonymized)) {
          throw new GuardrailIntervenedError(
            'bedrock',
            `bedrock: the guardrail blocked the description (${describeFindings(reading.findings)})`,
          );
        }
        if (response.stopReason === 'content_filtered') {
          throw new GuardrailIntervenedError(
            'bedrock',
            "bedrock: the model's content filter stopped the answer",
          );
        }

        const text = (response.output?.message?.content ?? []).map((block) => block.text ?? '').join('');
        const described = parseDescription('bedrock', text);
        const usage = {
          inputTokens: response.usage?.inputTokens ?? 0,
          outputTokens: response.usage?.outputTokens ?? 0,
        };
        const guardrailResult: GuardrailResult = {
          action: anonymized ? 'ANONYMIZED' : 'NONE',
          findings: reading.findings,
        };
        return {
          model: modelId,
          caption: described.caption,
          tags: described.tags,
          guardrail: guardrailResult,
          usage,
          costUsd: estimateCostUsd(modelId, usage),
          latencyMs,
          emulated: isEmulated(response.additionalModelResponseFields),
        };
      });
    },
  };
}
