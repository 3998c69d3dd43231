// The guardrail policy, defined once: infra renders it as `aws_bedrock_guardrail`, the local cloud's
// guardrail emulator enforces it. Names follow Bedrock's CreateGuardrail API.

export type PiiAction = 'BLOCK' | 'ANONYMIZE';
export type FilterStrength = 'NONE' | 'LOW' | 'MEDIUM' | 'HIGH';
export type ContentFilterType = 'HATE' | 'INSULTS' | 'SEXUAL' | 'VIOLENCE' | 'MISCONDUCT' | 'PROMPT_ATTACK';

export interface PiiEntityPolicy {
  type: string;
  action: PiiAction;
}

export interface ContentFilterPolicy {
  type: ContentFilterType;
  inputStrength: FilterStrength;
  /** Bedrock requires NONE for PROMPT_ATTACK: prompt attacks are judged on input only. */
  outputStrength: FilterStrength;
}

export interface GuardrailPolicy {
  name: string;
  description: string;
  blockedInputMessaging: string;
  blockedOutputsMessaging: string;
  piiEntities: readonly PiiEntityPolicy[];
  contentFilters: readonly ContentFilterPolicy[];
  /** Bedrock's managed profanity list. */
  managedWordLists: readonly 'PROFANITY'[];
}

export const guardrailPolicy: GuardrailPolicy = {
  name: 'mc-vision-guardrail',
  description: 'Keeps personal data and harmful content out of image descriptions.',
  blockedInputMessaging: 'This request was blocked by the MC Vision guardrail.',
  blockedOutputsMessaging: 'This description was blocked by the MC Vision guardrail.',
  piiEntities: [
    // Contact details are masked, so the description stays useful.
    { type: 'EMAIL', action: 'ANONYMIZE' },
    { type: 'PHONE', action: 'ANONYMIZE' },
    { type: 'IP_ADDRESS', action: 'ANONYMIZE' },
    { type: 'NAME', action: 'ANONYMIZE' },
    // Secrets and financial or government identifiers are never returned at all.
    { type: 'CREDIT_DEBIT_CARD_NUMBER', action: 'BLOCK' },
    { type: 'US_SOCIAL_SECURITY_NUMBER', action: 'BLOCK' },
    { type: 'AWS_ACCESS_KEY', action: 'BLOCK' },
    { type: 'AWS_SECRET_KEY', action: 'BLOCK' },
  ],
  contentFilters: [
    { type: 'HATE', inputStrength: 'HIGH', outputStrength: 'HIGH' },
    { type: 'INSULTS', inputStrength: 'HIGH', outputStrength: 'HIGH' },
    { type: 'SEXUAL', inputStrength: 'HIGH', outputStrength: 'HIGH' },
    { type: 'VIOLENCE', inputStrength: 'MEDIUM', outputStrength: 'MEDIUM' },
    { type: 'MISCONDUCT', inputStrength: 'HIGH', outputStrength: 'HIGH' },
    { type: 'PROMPT_ATTACK', inputStrength: 'HIGH', outputStrength: 'NONE' },
  ],
  managedWordLists: ['PROFANITY'],
};
