import { isIP } from 'node:net';
import nlp from 'compromise';

// Detectors for the PII types the emulator covers. Bedrock uses ML entity recognition; here person names come
// from compromise's English NLP (its `people()` match), and the rest from deliberately conservative patterns
// (checksums, valid ranges, separators) so ordinary prose is not masked.

export const detectedPiiTypes = [
  'AWS_ACCESS_KEY',
  'AWS_SECRET_KEY',
  'EMAIL',
  'IP_ADDRESS',
  'CREDIT_DEBIT_CARD_NUMBER',
  'US_SOCIAL_SECURITY_NUMBER',
  'PHONE',
  'NAME',
] as const;
export type DetectedPiiType = (typeof detectedPiiTypes)[number];

export interface PiiMatch {
  type: DetectedPiiType;
  match: string;
  start: number;
  end: number;
}

interface Detector {
  type: DetectedPiiType;
  pattern: RegExp;
  accept?: (match: string) => boolean;
}

/** Luhn checksum over the digits of `value` (separators ignored). */
export function luhnValid(value: string): boolean {
  const digits = value.replace(/\D/g, '');
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return digits.length > 0 && sum % 10 === 0;
}

function isCardNumber(match: string): boolean {
  const digits = match.replace(/\D/g, '');
  // 13-19 digits, an issuer's leading digit (2-6: Mastercard, Amex, Visa, Discover/JCB/Diners), checksum.
  return digits.length >= 13 && digits.length <= 19 && /^[2-6]/.test(digits) && luhnValid(digits);
}

function isSecretKey(match: string): boolean {
  // 40 base64 characters with mixed case and a digit: excludes hex hashes, words and plain numbers.
  return /[A-Z]/.test(match) && /[a-z]/.test(match) && /\d/.test(match);
}

// Order matters: earlier detectors claim their span first (an e-mail's digits are not a phone number).
const detectors: Detector[] = [
  { type: 'AWS_ACCESS_KEY', pattern: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g },
  {
    type: 'AWS_SECRET_KEY',
    pattern: /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
    accept: isSecretKey,
  },
  { type: 'EMAIL', pattern: /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g },
  {
    type: 'IP_ADDRESS',
    pattern: /\b(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\b/g,
  },
  {
    type: 'IP_ADDRESS',
    // IPv6 candidates (including `::` forms and an embedded IPv4 tail), confirmed by the platform's parser.
    pattern: /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])/g,
    accept: (match) => isIP(match) === 6,
  },
  {
    type: 'CREDIT_DEBIT_CARD_NUMBER',
    pattern: /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g,
    accept: isCardNumber,
  },
  {
    type: 'US_SOCIAL_SECURITY_NUMBER',
    // Area 001-899 except 666, group 01-99, serial 0001-9999, with the same separator twice.
    pattern: /(?<![\d-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\d-])/g,
  },
  {
    type: 'PHONE',
    // NANP numbers with or without +1, and international numbers written with a leading +country code.
    pattern:
      /(?<![\w+])(?:(?:\+?1[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]?\d{4}|\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5})(?!\w)/g,
    accept: (match) => {
      const digits = match.replace(/\D/g, '').length;
      return digits >= 10 && digits <= 15;
    },
  },
];

interface Span {
  start: number;
  length: number;
}

/** Prose segments whose people() spans are kept, the most recently read. */
const keptSegments = 512;
const peopleBySegment = new Map<string, readonly Span[]>();

/**
 * compromise's people() spans in `segment`. Tagging a prompt takes it tens of milliseconds, and the answer
 * depends on the text alone (nothing here teaches compromise words), while the same prose (the pipeline's
 * prompt, a description's phrases) comes back on every call: so the latest answers are kept, by their text.
 */
function peopleIn(segment: string): readonly Span[] {
  if (!/\p{Lu}/u.test(segment)) return []; // a name starts with a capital letter (personNames)
  const kept = peopleBySegment.get(segment);
  if (kept) {
    peopleBySegment.delete(segment); // most recently read last
    peopleBySegment.set(segment, kept);
    return kept;
  }
  const people = nlp(segment).people().json({ offset: true }) as { offset: Span }[];
  const spans = people.map(({ offset }) => ({ start: offset.start, length: offset.length }));
  peopleBySegment.set(segment, spans);
  if (peopleBySegment.size > keptSegments) peopleBySegment.delete(peopleBySegment.keys().next().value!);
  return spans;
}

/**
 * Person names as compromise finds them. It reads prose, so JSON is read string by string (its quotes and
 * brackets would otherwise glue words of neighbouring strings together). Kept conservative, as the patterns are:
 * a name starts with a capital letter and does not follow an article ("a Saint Bernard", "a Gordon setter" are
 * the classifier's breeds, not people); the punctuation compromise keeps around a match is trimmed off.
 */
function personNames(text: string): { match: string; start: number; end: number }[] {
  const names: { match: string; start: number; end: number }[] = [];
  for (const segment of text.matchAll(/[^"{}[\]]+/g)) {
    for (const offset of peopleIn(segment[0])) {
      const at = segment.index + offset.start;
      const raw = text.slice(at, at + offset.length);
      const lead = raw.length - raw.replace(/^[^\p{L}]+/u, '').length;
      const match = raw.slice(lead).replace(/[^\p{L}.]+$|(?<=\p{L}{2})\.$/u, '');
      const start = at + lead;
      if (!/^\p{Lu}/u.test(match) || /\b(?:an?|the)\s+$/i.test(text.slice(0, start))) continue;
      names.push({ match, start, end: start + match.length });
    }
  }
  return names;
}

/** Every PII entity found, left to right, without overlaps (patterns first: an address's name is the address). */
export function detectPii(text: string): PiiMatch[] {
  const found: PiiMatch[] = [];
  const overlaps = (start: number, end: number) => found.some((m) => start < m.end && m.start < end);
  for (const detector of detectors) {
    for (const hit of text.matchAll(detector.pattern)) {
      const match = hit[0];
      const start = hit.index;
      const end = start + match.length;
      if (detector.accept && !detector.accept(match)) continue;
      if (overlaps(start, end)) continue;
      found.push({ type: detector.type, match, start, end });
    }
  }
  for (const name of personNames(text)) {
    if (!overlaps(name.start, name.end)) found.push({ type: 'NAME', ...name });
  }
  return found.sort((a, b) => a.start - b.start);
}
