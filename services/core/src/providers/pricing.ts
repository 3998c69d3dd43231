import type { TokenUsage } from '../schemas.ts';

// Estimated cost of an LLM call from its token usage. On-demand list prices in USD per million tokens, as
// recorded on 2026-11-25 from the brief of issue 2 (which quotes aws.amazon.com/bedrock/pricing, Anthropic
// Claude 3 Haiku, and azure.microsoft.com/pricing/details/cognitive-services/openai-service, GPT-4o-mini
// global deployment). Check those pages before relying on an estimate for billing.

export interface ModelPrice {
  /** Matched against the model id or deployment's model name (`anthropic.claude-3-haiku-20240307-v1:0`). */
  match: string;
  inputPerMillionUsd: number;
  outputPerMillionUsd: number;
}

export const modelPrices: readonly ModelPrice[] = [
  { match: 'claude-3-haiku', inputPerMillionUsd: 0.25, outputPerMillionUsd: 1.25 },
  { match: 'gpt-4o-mini', inputPerMillionUsd: 0.15, outputPerMillionUsd: 0.6 },
];

/** The price entry for a model id (Bedrock model or inference-profile id, Azure model name), if known. */
export function findModelPrice(model: string): ModelPrice | undefined {
  const id = model.toLowerCase();
  // Longest match first, so a more specific entry wins over its prefix.
  return [...modelPrices].sort((a, b) => b.match.length - a.match.length).find((p) => id.includes(p.match));
}

/** Estimated USD cost of `usage` on `model`; 0 for a model without a known price. */
export function estimateCostUsd(model: string, usage: TokenUsage): number {
  const price = findModelPrice(model);
  if (!price) return 0;
  const cost =
    (usage.inputTokens * price.inputPerMillionUsd + usage.outputTokens * price.outputPerMillionUsd) /
    1_000_000;
  // Round to a millionth of a cent: enough precision, and no floating-point noise in stored records.
  return Math.round(cost * 1e8) / 1e8;
}
