import type { ContentFilterType } from '@mc-vision/core';
import { contentFindings, highestConfidence, type Confidence } from '../guardrail/index.ts';
import { HttpError } from '../http.ts';

// Azure OpenAI's content filter, judged with the same stand-in classifier as the guardrail engine (the word lists
// and prompt-attack phrasings core's policy is enforced with), in Azure's shapes: every answer carries
// `prompt_filter_results` and each choice `content_filter_results`; a filtered completion ends with
// `finish_reason: "content_filter"`; a filtered prompt is a 400 `content_filter` error whose `innererror`
// carries the verdict. Azure's default configuration filters medium and high severity in both directions, and
// its Prompt Shield flags jailbreaks in the prompt.

export type Severity = 'safe' | 'low' | 'medium' | 'high';
type SeverityResult = { filtered: boolean; severity: Severity };
type DetectionResult = { filtered: boolean; detected: boolean };
export type ContentFilterResults = Record<string, SeverityResult | DetectionResult>;

/** Azure's harm categories, and the policy's content filters that feed each (Azure has none for misconduct). */
const categories: Record<'hate' | 'self_harm' | 'sexual' | 'violence', ContentFilterType[]> = {
  hate: ['HATE', 'INSULTS'],
  self_harm: [],
  sexual: ['SEXUAL'],
  violence: ['VIOLENCE'],
};
const severityOf: Record<Confidence, Severity> = { LOW: 'low', MEDIUM: 'medium', HIGH: 'high' };
const filteredSeverities: readonly Severity[] = ['medium', 'high'];

function rate(text: string, side: 'prompt' | 'completion'): ContentFilterResults {
  const results: ContentFilterResults = {};
  for (const [category, types] of Object.entries(categories)) {
    const confidence = highestConfidence(types.flatMap((type) => contentFindings(type, text)));
    const severity = confidence ? severityOf[confidence] : 'safe';
    results[category] = { filtered: filteredSeverities.includes(severity), severity };
  }
  if (side === 'prompt') {
    const detected = contentFindings('PROMPT_ATTACK', text).some((level) => level !== 'LOW');
    results.jailbreak = { filtered: detected, detected };
  } else {
    results.protected_material_code = { filtered: false, detected: false };
    results.protected_material_text = { filtered: false, detected: false };
  }
  return Object.fromEntries(Object.entries(results).sort(([a], [b]) => a.localeCompare(b)));
}

export const rateCompletion = (text: string) => rate(text, 'completion');
export const ratePrompt = (text: string) => rate(text, 'prompt');

export function isFiltered(results: ContentFilterResults): boolean {
  return Object.values(results).some((result) => result.filtered);
}

/** The 400 Azure answers when the prompt is filtered. */
export function promptFilteredError(results: ContentFilterResults): HttpError {
  return new HttpError(400, {
    error: {
      message:
        "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
      type: null,
      param: 'prompt',
      code: 'content_filter',
      status: 400,
      innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: results },
    },
  });
}

/** What an injected `{status: 400, type: "content_filter"}` fault answers: a prompt filtered as high-severity hate. */
export function injectedPromptFilter(): HttpError {
  const results = ratePrompt('');
  results.hate = { filtered: true, severity: 'high' };
  return promptFilteredError(results);
}
