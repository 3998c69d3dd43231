import { describe, expect, it } from '@jest/globals';
import { estimateCostUsd, findModelPrice } from '../../../src/index.ts';

describe('estimateCostUsd', () => {
  it('prices Claude 3 Haiku at $0.25 / $1.25 per million tokens, by model or inference-profile id', () => {
    const usage = { inputTokens: 1_000_000, outputTokens: 1_000_000 };
    expect(estimateCostUsd('anthropic.claude-3-haiku-20240307-v1:0', usage)).toBe(1.5);
    expect(estimateCostUsd('us.anthropic.claude-3-haiku-20240307-v1:0', usage)).toBe(1.5);
  });

  it('prices GPT-4o-mini at $0.15 / $0.60 per million tokens', () => {
    expect(estimateCostUsd('gpt-4o-mini-2024-07-18', { inputTokens: 2_000_000, outputTokens: 500_000 })).toBe(
      0.6,
    );
  });

  it('gives a typical call a small, exact figure', () => {
    expect(estimateCostUsd('gpt-4o-mini', { inputTokens: 1234, outputTokens: 56 })).toBe(0.0002187);
  });

  it('estimates 0 for an unknown model, and knows which models it has prices for', () => {
    expect(estimateCostUsd('amazon.nova-lite-v1:0', { inputTokens: 1000, outputTokens: 1000 })).toBe(0);
    expect(findModelPrice('amazon.nova-lite-v1:0')).toBeUndefined();
    expect(findModelPrice('GPT-4o-mini')?.inputPerMillionUsd).toBe(0.15);
  });
});
