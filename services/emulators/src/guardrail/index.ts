export * from './coverage.ts';
export * from './engine.ts';
export { detectPii, detectedPiiTypes, luhnValid, type DetectedPiiType, type PiiMatch } from './pii.ts';
export { promptAttackPatterns, type PromptAttackPattern } from './prompt-attack.ts';
export {
  contentFindings,
  contentWordLists,
  highestConfidence,
  profanityList,
  type Confidence,
  type WordEntry,
} from './word-lists.ts';
