export { bedrockErrorTypes, type BedrockErrorType } from './errors.ts';
export {
  bedrockEmulatorMarker,
  claudeImageTokens,
  startBedrockRuntimeServer,
  type BedrockRuntimeEmulatorOptions,
} from './server.ts';
