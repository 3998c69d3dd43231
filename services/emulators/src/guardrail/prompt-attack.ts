import type { Confidence } from './word-lists.ts';

// Stand-in for Bedrock's PROMPT_ATTACK classifier, which judges input only: the common phrasings of jailbreaks
// (asking the model to drop its rules or play an unrestricted persona) and prompt injections (asking it to
// ignore or reveal its instructions), each with the confidence Bedrock would plausibly give. Anything phrased
// otherwise is only caught by Bedrock.

export interface PromptAttackPattern {
  pattern: RegExp;
  confidence: Confidence;
}

const previous = String.raw`(?:all\s+|any\s+|the\s+|your\s+)?(?:previous|prior|above|earlier|preceding|system|original)`;
const instructions = String.raw`(?:instructions?|prompts?|rules|guidelines|directions)`;

export const promptAttackPatterns: readonly PromptAttackPattern[] = [
  // Injection: override the instructions.
  {
    pattern: new RegExp(
      String.raw`\b(?:ignore|disregard|forget|override|bypass)\s+${previous}\s+${instructions}`,
      'i',
    ),
    confidence: 'HIGH',
  },
  // Injection: exfiltrate them.
  {
    pattern: new RegExp(
      String.raw`\b(?:reveal|print|show|repeat|output)\s+(?:me\s+)?(?:your|the)\s+(?:system\s+prompt|hidden\s+${instructions}|initial\s+${instructions})`,
      'i',
    ),
    confidence: 'HIGH',
  },
  // Jailbreak: an unrestricted persona or mode.
  {
    pattern:
      /\b(?:you\s+are\s+now|act\s+as|pretend\s+to\s+be)\s+(?:DAN|an?\s+unrestricted|an?\s+unfiltered)/i,
    confidence: 'HIGH',
  },
  { pattern: /\b(?:developer|god|jailbreak|unrestricted)\s+mode\b/i, confidence: 'MEDIUM' },
  {
    pattern:
      /\b(?:without|no)\s+(?:any\s+)?(?:restrictions|filters|guardrails|safety\s+guidelines|content\s+policy)\b/i,
    confidence: 'MEDIUM',
  },
  { pattern: /\bjailbreak/i, confidence: 'LOW' },
];
