import { z } from 'zod';

// The parts of Bedrock's Converse and ApplyGuardrail request bodies the emulator reads (JSON; blobs base64).
// Unknown top-level fields (requestMetadata, performanceConfig, ...) are accepted and ignored, as the service would
// accept them; content block types the emulator cannot answer are refused with a ValidationException.

const imageFormat = z.enum(['png', 'jpeg', 'gif', 'webp']);

const imageBlock = z.strictObject({
  image: z.object({
    format: imageFormat,
    source: z.strictObject({ bytes: z.base64() }),
  }),
});
const textBlock = z.strictObject({ text: z.string() });
const contentBlock = z.union([textBlock, imageBlock]);

export const converseRequestSchema = z.looseObject({
  messages: z
    .array(
      z.object({
        role: z.enum(['user', 'assistant']),
        content: z.array(contentBlock).min(1),
      }),
    )
    .min(1),
  system: z.array(textBlock).optional(),
  inferenceConfig: z
    .object({
      maxTokens: z.number().int().min(1).optional(),
      temperature: z.number().min(0).max(1).optional(),
      topP: z.number().min(0).max(1).optional(),
      stopSequences: z.array(z.string().min(1)).max(2500).optional(),
    })
    .optional(),
  guardrailConfig: z
    .object({
      guardrailIdentifier: z.string().min(1).max(2048),
      guardrailVersion: z.string().min(1),
      trace: z.enum(['enabled', 'disabled', 'enabled_full']).optional(),
    })
    .optional(),
  toolConfig: z.undefined({ error: 'tool use is not emulated' }).optional(),
});
export type ConverseRequest = z.infer<typeof converseRequestSchema>;

export const applyGuardrailRequestSchema = z.looseObject({
  source: z.enum(['INPUT', 'OUTPUT']),
  content: z
    .array(
      z.union([
        z.strictObject({
          text: z.object({ text: z.string(), qualifiers: z.array(z.string()).optional() }),
        }),
        imageBlock,
      ]),
    )
    .min(1),
  outputScope: z.enum(['INTERVENTIONS', 'FULL']).optional(),
});
export type ApplyGuardrailRequest = z.infer<typeof applyGuardrailRequestSchema>;
