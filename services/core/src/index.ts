export * from './aws.ts';
export * from './config/index.ts';
export * from './errors.ts';
export * from './guardrail-policy.ts';
export * from './providers/types.ts';
export * from './records.ts';
export * from './results-store.ts';
export * from './schemas.ts';
