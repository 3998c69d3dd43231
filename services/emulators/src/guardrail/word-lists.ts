import type { ContentFilterType } from '@mc-vision/core';
import { promptAttackPatterns } from './prompt-attack.ts';

// Short word lists standing in for Bedrock's ML content classifiers. Each entry carries the confidence Bedrock
// would plausibly assign, so the policy's filter strength decides as it does in Bedrock: LOW strength blocks
// HIGH-confidence findings only, MEDIUM blocks MEDIUM and HIGH, HIGH blocks all three. Everyday words that
// appear in ordinary photo captions (a rifle in a museum, a knife in a kitchen) are LOW, so the pipeline's
// VIOLENCE filter at MEDIUM lets them through, as the real filter would.

export type Confidence = 'LOW' | 'MEDIUM' | 'HIGH';

export interface WordEntry {
  /** A word or phrase; matched case-insensitively on word boundaries, with common inflections. */
  phrase: string;
  confidence: Confidence;
}

export const contentWordLists: Record<Exclude<ContentFilterType, 'PROMPT_ATTACK'>, readonly WordEntry[]> = {
  HATE: [
    { phrase: 'subhuman', confidence: 'HIGH' },
    { phrase: 'master race', confidence: 'HIGH' },
    { phrase: 'racially inferior', confidence: 'HIGH' },
    { phrase: 'ethnic cleansing', confidence: 'MEDIUM' },
    { phrase: 'go back to your country', confidence: 'MEDIUM' },
  ],
  INSULTS: [
    { phrase: 'worthless', confidence: 'MEDIUM' },
    { phrase: 'idiot', confidence: 'MEDIUM' },
    { phrase: 'moron', confidence: 'MEDIUM' },
    { phrase: 'imbecile', confidence: 'MEDIUM' },
    { phrase: 'stupid', confidence: 'LOW' },
    { phrase: 'loser', confidence: 'LOW' },
  ],
  SEXUAL: [
    { phrase: 'pornographic', confidence: 'HIGH' },
    { phrase: 'sexually explicit', confidence: 'HIGH' },
    { phrase: 'nude', confidence: 'MEDIUM' },
    { phrase: 'naked', confidence: 'MEDIUM' },
    { phrase: 'topless', confidence: 'MEDIUM' },
    { phrase: 'lingerie', confidence: 'LOW' },
  ],
  VIOLENCE: [
    { phrase: 'gory', confidence: 'HIGH' },
    { phrase: 'decapitated', confidence: 'HIGH' },
    { phrase: 'mutilated', confidence: 'HIGH' },
    { phrase: 'massacre', confidence: 'MEDIUM' },
    { phrase: 'bloodbath', confidence: 'MEDIUM' },
    { phrase: 'murder', confidence: 'MEDIUM' },
    { phrase: 'stabbing', confidence: 'MEDIUM' },
    { phrase: 'rifle', confidence: 'LOW' },
    { phrase: 'revolver', confidence: 'LOW' },
    { phrase: 'gun', confidence: 'LOW' },
  ],
  MISCONDUCT: [
    { phrase: 'make a bomb', confidence: 'HIGH' },
    { phrase: 'cook meth', confidence: 'HIGH' },
    { phrase: 'launder money', confidence: 'MEDIUM' },
    { phrase: 'counterfeit money', confidence: 'MEDIUM' },
    { phrase: 'hotwire a car', confidence: 'MEDIUM' },
    { phrase: 'shoplifting', confidence: 'LOW' },
  ],
};

/** Stand-in for Bedrock's managed PROFANITY list: common English profanity only. */
export const profanityList: readonly string[] = [
  'fuck',
  'motherfucker',
  'shit',
  'bullshit',
  'bitch',
  'bastard',
  'asshole',
  'dickhead',
  'wanker',
  'cunt',
];

const patternCache = new Map<string, RegExp>();

/** A matcher for `phrase`: whole words, any case, flexible spacing, common suffixes (s, es, ed, ing, y). */
export function phrasePattern(phrase: string): RegExp {
  let pattern = patternCache.get(phrase);
  if (!pattern) {
    const words = phrase.split(/\s+/).map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    pattern = new RegExp(`\\b${words.join('\\s+')}(?:s|es|ed|ing|y)?\\b`, 'gi');
    patternCache.set(phrase, pattern);
  }
  pattern.lastIndex = 0;
  return pattern;
}

/** Each occurrence of `phrase` in `text`, as written there. */
export function findPhrase(text: string, phrase: string): string[] {
  return [...text.matchAll(phrasePattern(phrase))].map((hit) => hit[0]);
}

const confidenceRank: Record<Confidence, number> = { LOW: 1, MEDIUM: 2, HIGH: 3 };

/**
 * The confidence of every listed phrasing of `type` found in `text`: the stand-in for a content classifier,
 * shared by the guardrail engine and Azure OpenAI's content filter.
 */
export function contentFindings(type: ContentFilterType, text: string): Confidence[] {
  if (type === 'PROMPT_ATTACK') {
    return promptAttackPatterns.filter((entry) => entry.pattern.test(text)).map((entry) => entry.confidence);
  }
  return contentWordLists[type]
    .filter((entry) => phrasePattern(entry.phrase).test(text)) // whether, not where: no match list
    .map((entry) => entry.confidence);
}

/** The highest of `confidences`, if any. */
export function highestConfidence(confidences: readonly Confidence[]): Confidence | undefined {
  return confidences.reduce<Confidence | undefined>(
    (top, next) => (top === undefined || confidenceRank[next] > confidenceRank[top] ? next : top),
    undefined,
  );
}
