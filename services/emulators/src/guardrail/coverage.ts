import { guardrailPolicy as defaultPolicy, type GuardrailPolicy } from '@mc-vision/core';

// What the local guardrail engine enforces, and what only the real Bedrock guardrail does, per Bedrock policy, as
// data: the README's table is `guardrailCoverageRows()`, and a test checks this list against the engine's
// detectors and the README.

export type GuardrailPolicyName =
  'sensitiveInformation' | 'content' | 'word' | 'topic' | 'contextualGrounding';

export interface GuardrailCoverageItem {
  policy: GuardrailPolicyName;
  /** Entity type, filter or feature. */
  feature: string;
  /** How the local engine does it; empty when it does not. */
  local: string;
  /** What only Bedrock's guardrail does for it; empty when the local engine does all the policy asks. */
  bedrockOnly: string;
}

export const guardrailCoverage: readonly GuardrailCoverageItem[] = [
  { policy: 'sensitiveInformation', feature: 'EMAIL', local: 'address pattern', bedrockOnly: '' },
  {
    policy: 'sensitiveInformation',
    feature: 'PHONE',
    local: 'NANP numbers and +country-code numbers, 10-15 digits',
    bedrockOnly: 'numbers written other ways',
  },
  {
    policy: 'sensitiveInformation',
    feature: 'IP_ADDRESS',
    local: 'IPv4 and IPv6 (validated by node:net)',
    bedrockOnly: '',
  },
  {
    policy: 'sensitiveInformation',
    feature: 'NAME',
    local: 'person names compromise (English NLP) finds, capitalized, not after an article',
    bedrockOnly: 'names compromise does not know, other languages, lowercase names',
  },
  {
    policy: 'sensitiveInformation',
    feature: 'CREDIT_DEBIT_CARD_NUMBER',
    local: '13-19 digits (spaces or dashes allowed), issuer digit 2-6, Luhn-checked',
    bedrockOnly: '',
  },
  {
    policy: 'sensitiveInformation',
    feature: 'US_SOCIAL_SECURITY_NUMBER',
    local: 'AAA-GG-SSSS with dashes or spaces, invalid areas/groups/serials excluded',
    bedrockOnly: 'numbers without separators',
  },
  {
    policy: 'sensitiveInformation',
    feature: 'AWS_ACCESS_KEY',
    local: 'AKIA/ASIA + 16 characters',
    bedrockOnly: '',
  },
  {
    policy: 'sensitiveInformation',
    feature: 'AWS_SECRET_KEY',
    local: '40 base64 characters with upper case, lower case and a digit',
    bedrockOnly: '',
  },
  {
    policy: 'sensitiveInformation',
    feature: 'other PII types (ADDRESS, AGE, passport, bank, licence plate, ...)',
    local: '',
    bedrockOnly: 'not in the policy; ML and locale-specific detection',
  },
  {
    policy: 'content',
    feature: 'HATE, INSULTS, SEXUAL, VIOLENCE, MISCONDUCT',
    local: 'short word lists with a confidence per entry, applied per the policy strength',
    bedrockOnly: 'ML classification of meaning and context',
  },
  {
    policy: 'content',
    feature: 'PROMPT_ATTACK',
    local: 'input only: common jailbreak and injection phrasings, with a confidence each',
    bedrockOnly: 'ML detection of any phrasing',
  },
  {
    policy: 'content',
    feature: 'image content filters',
    local: '',
    bedrockOnly: 'images are not assessed locally',
  },
  {
    policy: 'word',
    feature: 'PROFANITY',
    local: 'short list of common English profanity',
    bedrockOnly: "Bedrock's full managed list",
  },
  { policy: 'topic', feature: 'denied topics', local: '', bedrockOnly: 'not in the policy' },
  {
    policy: 'contextualGrounding',
    feature: 'grounding and relevance checks',
    local: '',
    bedrockOnly: 'not in the policy',
  },
];

const policyLabels: Record<GuardrailPolicyName, string> = {
  sensitiveInformation: 'sensitive information',
  content: 'content filters',
  word: 'word filters',
  topic: 'denied topics',
  contextualGrounding: 'contextual grounding',
};

/** What core's policy does with the feature: `anonymize`, `block (input HIGH, output MEDIUM)`, ... */
export function policyAction(item: GuardrailCoverageItem, policy: GuardrailPolicy = defaultPolicy): string {
  const entity = policy.piiEntities.find((candidate) => candidate.type === item.feature);
  if (entity) return entity.action.toLowerCase();
  const filters = policy.contentFilters.filter((filter) => item.feature.split(', ').includes(filter.type));
  const strength = (filter: (typeof filters)[number]) =>
    filter.inputStrength === filter.outputStrength
      ? filter.inputStrength
      : `input ${filter.inputStrength}, output ${filter.outputStrength}`;
  if (filters.length === 1) return `block (${strength(filters[0]!)})`;
  if (filters.length > 1) {
    const byStrength = Map.groupBy(filters, strength);
    const groups = [...byStrength].map(
      ([level, group]) => `${group.map((f) => f.type).join(', ')}: ${level}`,
    );
    return `block (${groups.join('; ')})`;
  }
  if (item.policy === 'word' && policy.managedWordLists.includes(item.feature as 'PROFANITY')) return 'block';
  return 'not in the policy';
}

/** The README's table: policy, feature, core's action, the local engine, only Bedrock. */
export function guardrailCoverageRows(policy: GuardrailPolicy = defaultPolicy): string[][] {
  return guardrailCoverage.map((item) => [
    policyLabels[item.policy],
    item.feature,
    policyAction(item, policy),
    item.local || '—',
    item.bedrockOnly || '—',
  ]);
}
