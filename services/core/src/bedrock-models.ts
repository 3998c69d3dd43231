// The Bedrock foundation models the platform may call, defined once: infra grants `bedrock:InvokeModel` on exactly
// these (`foundationModelArn`), `BEDROCK_MODEL_ID` must name one of them, and the local Bedrock emulator refuses
// every other model id as Bedrock refuses a model the caller's role is not granted.

export const grantedBedrockModelIds = ['anthropic.claude-3-haiku-20240307-v1:0'] as const;
export type GrantedBedrockModelId = (typeof grantedBedrockModelIds)[number];

/** The ARN IAM grants a foundation model by (foundation models have no account in their ARN). */
export function foundationModelArn(region: string, modelId: string): string {
  return `arn:aws:bedrock:${region}::foundation-model/${modelId}`;
}
