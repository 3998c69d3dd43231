export * from './definition.ts';
export * from './tasks.ts';
