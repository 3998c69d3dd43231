import type { IncomingMessage } from 'node:http';
import { foundationModelArn, grantedBedrockModelIds } from '@mc-vision/core';
import { bedrockError } from './errors.ts';
import type { ConverseRequest } from './schemas.ts';

// What Bedrock refuses before any model runs, with Bedrock's own error types and messages: a model id that is
// no model (ValidationException), a model the caller is not granted (AccessDeniedException from IAM: the
// platform's role is granted exactly core's `grantedBedrockModelIds`, as foundation models), and a conversation
// whose roles do not alternate starting with the user.

const granted = new Set<string>(grantedBedrockModelIds);
/** The principal IAM names in an AccessDeniedException; the emulator checks no credentials, so it is a fixed one. */
const localPrincipal = 'arn:aws:sts::000000000000:assumed-role/mc-vision-local/emulator';
/** A cross-region inference profile's geography prefix (`us.anthropic.claude-...`). */
const profilePrefix = /^(?:us|us-gov|eu|apac|jp|au|ca|global)\./;
/** `provider.model[-version]`, the shape of every Bedrock model id. */
const modelIdShape =
  /^(?:ai21|amazon|anthropic|cohere|deepseek|meta|mistral|openai|qwen|stability|twelvelabs|writer)\.[a-z0-9][\w.:-]*$/;
const modelArn =
  /^arn:aws[\w-]*:bedrock:([\w-]+):(\d{12})?:(foundation-model|inference-profile|provisioned-model|custom-model)\/(.+)$/;

/** The region the request was signed for (SigV4 credential scope), as IAM names resources in it. */
export function signingRegion(req: IncomingMessage): string {
  const scope = String(req.headers.authorization ?? '').match(/Credential=[^/]+\/\d{8}\/([\w-]+)\/bedrock\//);
  return scope?.[1] ?? 'us-east-1';
}

/** Throws Bedrock's answer for a model id the platform may not invoke. */
export function checkModelAccess(modelId: string, region: string): void {
  const arn = modelId.match(modelArn);
  const id = arn ? arn[4]! : modelId;
  if (!modelIdShape.test(id.replace(profilePrefix, ''))) {
    throw bedrockError('ValidationException', 'The provided model identifier is invalid.');
  }
  const isFoundationModel = arn ? arn[3] === 'foundation-model' : !profilePrefix.test(id);
  if (isFoundationModel && granted.has(id)) return;
  const resource = arn
    ? modelId
    : isFoundationModel
      ? foundationModelArn(region, id)
      : `arn:aws:bedrock:${region}:000000000000:inference-profile/${id}`;
  throw bedrockError(
    'AccessDeniedException',
    `User: ${localPrincipal} is not authorized to perform: bedrock:InvokeModel on resource: ${resource} because no identity-based policy allows the bedrock:InvokeModel action`,
  );
}

/** Converse's rule: user first, then user and assistant in turn. */
export function checkConversation(messages: ConverseRequest['messages']): void {
  if (messages[0]?.role !== 'user') {
    throw bedrockError(
      'ValidationException',
      'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
    );
  }
  if (messages.some((message, index) => index > 0 && message.role === messages[index - 1]!.role)) {
    throw bedrockError(
      'ValidationException',
      'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.',
    );
  }
}
