import type { GuardrailAssessment } from '@aws-sdk/client-bedrock-runtime';
import type * as z from 'zod';
import type { guardrailFindingSchema } from '../schemas.ts';

// Reads Bedrock guardrail assessments (Converse's trace and ApplyGuardrail's answer share this shape) into
// the record's findings, and tells a masking intervention from a blocking one.

export type GuardrailFinding = z.infer<typeof guardrailFindingSchema>;

export interface GuardrailReading {
  /** Some policy blocked the content: there is nothing usable to return. */
  blocked: boolean;
  findings: GuardrailFinding[];
}

function asFindingAction(action: string | undefined): GuardrailFinding['action'] | undefined {
  return action === 'ANONYMIZED' || action === 'BLOCKED' ? action : undefined;
}

export function readGuardrailAssessments(assessments: readonly GuardrailAssessment[]): GuardrailReading {
  const findings = new Map<string, GuardrailFinding>();
  let blocked = false;
  const add = (
    policy: GuardrailFinding['policy'],
    type: string | undefined,
    rawAction: string | undefined,
  ) => {
    const action = asFindingAction(rawAction);
    if (!action) return;
    if (action === 'BLOCKED') blocked = true;
    const finding = { policy, type: type ?? 'UNKNOWN', action };
    findings.set(`${policy}/${finding.type}/${action}`, finding);
  };

  for (const assessment of assessments) {
    const sensitive = assessment.sensitiveInformationPolicy;
    for (const entity of sensitive?.piiEntities ?? []) add('pii', entity.type, entity.action);
    for (const regex of sensitive?.regexes ?? []) add('pii', regex.name ?? 'REGEX', regex.action);
    for (const filter of assessment.contentPolicy?.filters ?? []) add('content', filter.type, filter.action);
    for (const word of assessment.wordPolicy?.customWords ?? []) add('word', 'CUSTOM_WORD', word.action);
    for (const word of assessment.wordPolicy?.managedWordLists ?? []) add('word', word.type, word.action);
    // Policies the record has no finding type for still decide whether the content is blocked.
    const otherActions = [
      ...(assessment.topicPolicy?.topics ?? []).map((topic) => topic.action),
      ...(assessment.contextualGroundingPolicy?.filters ?? []).map((filter) => filter.action),
    ];
    if (otherActions.includes('BLOCKED')) blocked = true;
  }
  return { blocked, findings: [...findings.values()] };
}

export function describeFindings(findings: readonly GuardrailFinding[]): string {
  return findings.length === 0
    ? 'no findings reported'
    : findings.map((f) => `${f.policy}:${f.type}:${f.action}`).join(', ');
}
