import { performance } from 'node:perf_hooks';
import {
  guardrailPolicy as defaultPolicy,
  type ContentFilterType,
  type FilterStrength,
  type GuardrailPolicy,
} from '@mc-vision/core';
import { detectPii } from './pii.ts';
import {
  contentFindings,
  findPhrase,
  highestConfidence,
  profanityList,
  type Confidence,
} from './word-lists.ts';

// The guardrail policy applied locally, answering in Bedrock's ApplyGuardrail shapes (GuardrailAssessment,
// GuardrailUsage), so the same client code reads the emulator's verdict and the real guardrail's.
// Bedrock's rules, followed here: an ANONYMIZE entity is replaced by `{TYPE}`; any BLOCK entity, blocking content
// filter or profanity replaces the whole text by the policy's blocked message; either counts as an intervention.

export type GuardrailSource = 'INPUT' | 'OUTPUT';

export interface GuardrailPiiEntityFinding {
  type: string;
  match: string;
  action: 'ANONYMIZED' | 'BLOCKED';
  detected: boolean;
}

export interface GuardrailContentFilterFinding {
  type: ContentFilterType;
  confidence: Confidence;
  filterStrength: FilterStrength;
  action: 'BLOCKED';
  detected: boolean;
}

export interface GuardrailManagedWordFinding {
  match: string;
  type: 'PROFANITY';
  action: 'BLOCKED';
  detected: boolean;
}

export interface GuardrailUsage {
  topicPolicyUnits: number;
  contentPolicyUnits: number;
  wordPolicyUnits: number;
  sensitiveInformationPolicyUnits: number;
  sensitiveInformationPolicyFreeUnits: number;
  contextualGroundingPolicyUnits: number;
}

export interface GuardrailCoverage {
  textCharacters: { guarded: number; total: number };
}

/** Bedrock's GuardrailAssessment; a policy's key is present only when it found something. */
export interface GuardrailAssessment {
  sensitiveInformationPolicy?: { piiEntities: GuardrailPiiEntityFinding[]; regexes: [] };
  contentPolicy?: { filters: GuardrailContentFilterFinding[] };
  wordPolicy?: { customWords: []; managedWordLists: GuardrailManagedWordFinding[] };
  invocationMetrics: {
    guardrailProcessingLatency: number;
    usage: GuardrailUsage;
    guardrailCoverage: GuardrailCoverage;
  };
}

export interface GuardrailEngineResult {
  action: 'NONE' | 'GUARDRAIL_INTERVENED';
  /** The text to hand on: unchanged, with entities masked, or the policy's blocked message. */
  outputText: string;
  /** True when the whole text was replaced by the blocked message. */
  blocked: boolean;
  /** One assessment (this guardrail), as in ApplyGuardrail's `assessments`. */
  assessments: [GuardrailAssessment];
  usage: GuardrailUsage;
  coverage: GuardrailCoverage;
}

export interface ApplyGuardrailOptions {
  /** Which side of the model the text is on: picks the filter strengths and the blocked message. Default OUTPUT. */
  source?: GuardrailSource;
}

const blockingConfidences: Record<FilterStrength, readonly Confidence[]> = {
  NONE: [],
  LOW: ['HIGH'],
  MEDIUM: ['MEDIUM', 'HIGH'],
  HIGH: ['LOW', 'MEDIUM', 'HIGH'],
};

export function applyGuardrailPolicy(
  text: string,
  policy: GuardrailPolicy = defaultPolicy,
  options: ApplyGuardrailOptions = {},
): GuardrailEngineResult {
  const started = performance.now();
  const source = options.source ?? 'OUTPUT';

  const piiActions = new Map(policy.piiEntities.map((entity) => [entity.type, entity.action]));
  const pii = detectPii(text).flatMap((found) => {
    const action = piiActions.get(found.type);
    return action
      ? [{ ...found, action: action === 'BLOCK' ? ('BLOCKED' as const) : ('ANONYMIZED' as const) }]
      : [];
  });

  const filters: GuardrailContentFilterFinding[] = [];
  for (const filter of policy.contentFilters) {
    const strength = source === 'INPUT' ? filter.inputStrength : filter.outputStrength;
    const blocking = blockingConfidences[strength];
    // Prompt attacks are judged on input only (Bedrock requires output strength NONE for them).
    const found =
      filter.type === 'PROMPT_ATTACK' && source === 'OUTPUT' ? [] : contentFindings(filter.type, text);
    const confidence = highestConfidence(found.filter((level) => blocking.includes(level)));
    if (!confidence) continue;
    filters.push({
      type: filter.type,
      confidence,
      filterStrength: strength,
      action: 'BLOCKED',
      detected: true,
    });
  }

  const profanity: GuardrailManagedWordFinding[] = policy.managedWordLists.includes('PROFANITY')
    ? profanityList.flatMap((word) =>
        findPhrase(text, word).map((match) => ({
          match,
          type: 'PROFANITY' as const,
          action: 'BLOCKED' as const,
          detected: true,
        })),
      )
    : [];

  const blocked =
    pii.some((entity) => entity.action === 'BLOCKED') || filters.length > 0 || profanity.length > 0;
  const anonymized = pii.some((entity) => entity.action === 'ANONYMIZED');
  let outputText = text;
  if (blocked) {
    outputText = source === 'INPUT' ? policy.blockedInputMessaging : policy.blockedOutputsMessaging;
  } else if (anonymized) {
    // Right to left, so earlier offsets stay valid.
    for (const entity of [...pii].reverse()) {
      outputText = `${outputText.slice(0, entity.start)}{${entity.type}}${outputText.slice(entity.end)}`;
    }
  }

  // Bedrock bills each configured policy by text unit (up to 1,000 characters).
  const units = Math.max(1, Math.ceil(text.length / 1000));
  const usage: GuardrailUsage = {
    topicPolicyUnits: 0,
    contentPolicyUnits: policy.contentFilters.length > 0 ? units : 0,
    wordPolicyUnits: policy.managedWordLists.length > 0 ? units : 0,
    sensitiveInformationPolicyUnits: policy.piiEntities.length > 0 ? units : 0,
    sensitiveInformationPolicyFreeUnits: 0,
    contextualGroundingPolicyUnits: 0,
  };
  const coverage: GuardrailCoverage = { textCharacters: { guarded: text.length, total: text.length } };

  const assessment: GuardrailAssessment = {
    invocationMetrics: {
      guardrailProcessingLatency: Math.round(performance.now() - started),
      usage,
      guardrailCoverage: coverage,
    },
  };
  if (pii.length > 0) {
    assessment.sensitiveInformationPolicy = {
      piiEntities: pii.map(({ type, match, action }) => ({ type, match, action, detected: true })),
      regexes: [],
    };
  }
  if (filters.length > 0) assessment.contentPolicy = { filters };
  if (profanity.length > 0) assessment.wordPolicy = { customWords: [], managedWordLists: profanity };

  return {
    action: blocked || anonymized ? 'GUARDRAIL_INTERVENED' : 'NONE',
    outputText,
    blocked,
    assessments: [assessment],
    usage,
    coverage,
  };
}
