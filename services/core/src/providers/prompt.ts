import * as z from 'zod';
import { InvalidModelResponseError } from '../errors.ts';
import type { LabelScore, ProviderName } from '../schemas.ts';

// One prompt for every vision LLM, and one parser for what they answer. Models are asked for bare JSON but do
// not always comply (code fences, a sentence before or after), so the parser looks for the first JSON object
// that has the right shape and rejects everything else.

const maxTags = 10;

/** Low but not zero: captions stay factual and repeatable without getting stuck in loops. */
export const describeTemperature = 0.2;

/** The instructions sent with the image, with the classifier's labels as hints when the pipeline has them. */
export function buildDescribePrompt(hints: readonly LabelScore[] = []): string {
  const lines = [
    'Describe this image for a searchable photo catalogue.',
    'Answer with one JSON object and nothing else (no prose, no code fences), exactly of this form:',
    '{"caption": string, "tags": string[]}',
    '- caption: one sentence of at most 30 words saying what the image shows.',
    `- tags: 3 to ${maxTags} short lowercase keywords (objects, animals, scene, colours), most relevant first.`,
    'Describe only what is visible. Do not name real people, and do not copy personal data (email addresses,',
    'phone numbers, card or account numbers) from the image.',
  ];
  if (hints.length > 0) {
    const labels = hints.map((hint) => `${hint.label} (${hint.score.toFixed(2)})`).join(', ');
    lines.push(
      `An image classifier suggested these labels with confidence scores: ${labels}.`,
      'Use them only where they agree with what you see.',
    );
  }
  return lines.join('\n');
}

const tagSchema = z.string().trim().toLowerCase().min(1).max(60);

export const describedImageSchema = z.object({
  caption: z.string().trim().min(1).max(1000),
  tags: z
    .array(tagSchema)
    .max(50)
    .transform((tags) => [...new Set(tags)].slice(0, maxTags)),
});
export type DescribedImage = z.infer<typeof describedImageSchema>;

/** The balanced `{...}` substrings of `text` starting at each `{`, in order, honouring JSON strings. */
function* jsonObjectCandidates(text: string): Generator<string> {
  for (let start = text.indexOf('{'); start !== -1; start = text.indexOf('{', start + 1)) {
    let depth = 0;
    let inString = false;
    let escaped = false;
    for (let i = start; i < text.length; i++) {
      const ch = text[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === '\\') escaped = true;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) {
        yield text.slice(start, i + 1);
        break;
      }
    }
  }
}

/**
 * Reads `{caption, tags}` from a model's answer, tolerating code fences and text around the JSON.
 * Throws `InvalidModelResponseError` when no JSON object of that shape is in it.
 */
export function parseDescription(provider: ProviderName, text: string): DescribedImage {
  let lastProblem = 'no JSON object found';
  for (const candidate of jsonObjectCandidates(text)) {
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch {
      lastProblem = 'malformed JSON';
      continue;
    }
    const parsed = describedImageSchema.safeParse(value);
    if (parsed.success) return parsed.data;
    lastProblem = `wrong shape (${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')})`;
  }
  // The answer itself stays out of the message: it has not been through the guardrail yet.
  throw new InvalidModelResponseError(
    provider,
    `${provider}: the model's answer (${text.length} characters) is not {caption, tags} JSON: ${lastProblem}`,
  );
}
