export * from './batch-definition.ts';
export * from './definition.ts';
export * from './tasks.ts';
