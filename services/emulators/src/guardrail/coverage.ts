// What the local guardrail engine enforces, and what only the real Bedrock guardrail does, as data: the README
// renders this list, and a test checks it against the engine's detectors.

export interface GuardrailCoverageItem {
  /** Bedrock's policy name. */
  policy: 'sensitiveInformation' | 'content' | 'word' | 'topic' | 'contextualGrounding' | 'image';
  /** Entity type, filter or feature. */
  feature: string;
  /** How the emulator does it, or why it cannot. */
  note: string;
}

export const guardrailEngineCovers: readonly GuardrailCoverageItem[] = [
  { policy: 'sensitiveInformation', feature: 'EMAIL', note: 'address pattern' },
  {
    policy: 'sensitiveInformation',
    feature: 'PHONE',
    note: 'NANP numbers and +country-code numbers, 10-15 digits',
  },
  {
    policy: 'sensitiveInformation',
    feature: 'CREDIT_DEBIT_CARD_NUMBER',
    note: '13-19 digits (spaces or dashes allowed), issuer digit 2-6, Luhn-checked',
  },
  {
    policy: 'sensitiveInformation',
    feature: 'US_SOCIAL_SECURITY_NUMBER',
    note: 'AAA-GG-SSSS with dashes or spaces, invalid areas/groups/serials excluded',
  },
  { policy: 'sensitiveInformation', feature: 'IP_ADDRESS', note: 'IPv4 and IPv6 (validated by node:net)' },
  { policy: 'sensitiveInformation', feature: 'AWS_ACCESS_KEY', note: 'AKIA/ASIA + 16 characters' },
  {
    policy: 'sensitiveInformation',
    feature: 'AWS_SECRET_KEY',
    note: '40 base64 characters with upper case, lower case and a digit',
  },
  {
    policy: 'content',
    feature: 'HATE, INSULTS, SEXUAL, VIOLENCE, MISCONDUCT',
    note: 'short word lists with a confidence per entry, applied per the policy strength',
  },
  { policy: 'word', feature: 'PROFANITY', note: 'short list of common English profanity' },
];

export const guardrailRealOnly: readonly GuardrailCoverageItem[] = [
  {
    policy: 'sensitiveInformation',
    feature: 'NAME',
    note: 'needs entity recognition; the policy anonymizes names, the emulator does not find them',
  },
  {
    policy: 'sensitiveInformation',
    feature: 'other PII types (ADDRESS, AGE, passport, bank, licence plate, ...)',
    note: 'not in the policy; would need ML or locale-specific rules',
  },
  {
    policy: 'content',
    feature: 'ML content classification',
    note: 'the real filters judge meaning and context; the emulator only matches listed words',
  },
  {
    policy: 'content',
    feature: 'PROMPT_ATTACK',
    note: 'jailbreak and prompt-injection detection (input only)',
  },
  { policy: 'image', feature: 'image content filters', note: 'images are not assessed locally' },
  { policy: 'topic', feature: 'denied topics', note: 'not in the policy' },
  { policy: 'contextualGrounding', feature: 'grounding and relevance checks', note: 'not in the policy' },
];
