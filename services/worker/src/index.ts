export * from './build-record.ts';
export * from './image.ts';
export * from './ingest-handler.ts';
export * from './task-handler.ts';
export * from './metrics.ts';
