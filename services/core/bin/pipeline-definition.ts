// Prints the pipeline's Amazon States Language document, with placeholder ARNs, for people to read, diff or
// paste into Workflow Studio: `pnpm --silent pipeline:definition > pipeline.asl.json`.
import { buildPipelineDefinition, placeholderResources } from '../src/pipeline/index.ts';

process.stdout.write(`${JSON.stringify(buildPipelineDefinition(placeholderResources), null, 2)}\n`);
