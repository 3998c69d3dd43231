import { z } from 'zod';

// The parts of an Azure OpenAI chat completions request the emulator reads. Unknown fields are accepted and
// ignored (the service accepts many options the emulator has no use for); features it cannot answer are refused.

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }),
});
export type ImagePart = z.infer<typeof imagePart>;

const message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: z.union([z.string(), z.array(textPart)]) }),
  z.object({ role: z.literal('developer'), content: z.union([z.string(), z.array(textPart)]) }),
  z.object({
    role: z.literal('user'),
    content: z.union([z.string(), z.array(z.union([textPart, imagePart]))]),
  }),
  z.object({ role: z.literal('assistant'), content: z.union([z.string(), z.array(textPart)]).nullable() }),
]);
export type ChatMessage = z.infer<typeof message>;

export const chatCompletionRequestSchema = z.looseObject({
  messages: z.array(message).min(1),
  max_tokens: z.number().int().min(1).optional(),
  max_completion_tokens: z.number().int().min(1).optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().min(0).max(1).optional(),
  n: z.literal(1).optional(),
  stop: z
    .union([z.string(), z.array(z.string()).max(4)])
    .nullable()
    .optional(),
  stream: z.literal(false, { error: 'streaming is not emulated' }).optional(),
  response_format: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('text') }),
      z.object({ type: z.literal('json_object') }),
      z.object({ type: z.literal('json_schema'), json_schema: z.looseObject({ name: z.string().min(1) }) }),
    ])
    .optional(),
  tools: z.undefined({ error: 'tool calls are not emulated' }).optional(),
});
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;
