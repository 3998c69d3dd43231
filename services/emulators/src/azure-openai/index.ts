export {
  azureEmulatorFingerprint,
  gpt4oMiniImageTokens,
  startAzureOpenAiServer,
  type AzureOpenAiEmulatorOptions,
} from './server.ts';
