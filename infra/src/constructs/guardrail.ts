import { BedrockGuardrail } from '@cdktf/provider-aws/lib/bedrock-guardrail';
import { BedrockGuardrailVersion } from '@cdktf/provider-aws/lib/bedrock-guardrail-version';
import type { GuardrailPolicy } from '@mc-vision/core/guardrail-policy';
import { createHash } from 'node:crypto';
import { Construct } from 'constructs';

/** The guardrail's settings as `aws_bedrock_guardrail` takes them, from the core's policy. */
export function guardrailSettings(policy: GuardrailPolicy) {
  return {
    description: policy.description,
    blockedInputMessaging: policy.blockedInputMessaging,
    blockedOutputsMessaging: policy.blockedOutputsMessaging,
    sensitiveInformationPolicyConfig: [
      { piiEntitiesConfig: policy.piiEntities.map(({ type, action }) => ({ type, action })) },
    ],
    contentPolicyConfig: [
      {
        filtersConfig: policy.contentFilters.map(({ type, inputStrength, outputStrength }) => ({
          type,
          inputStrength,
          outputStrength,
        })),
      },
    ],
    wordPolicyConfig: [{ managedWordListsConfig: policy.managedWordLists.map((type) => ({ type })) }],
  };
}

/**
 * The Bedrock guardrail rendered from the core's guardrail policy (the same policy the local emulator
 * enforces), and a published version. The version's description carries a hash of the policy: a changed
 * policy replaces the version resource, which publishes a new version; old ones stay for running callers.
 */
export class Guardrail extends Construct {
  readonly guardrail: BedrockGuardrail;
  readonly version: BedrockGuardrailVersion;

  constructor(scope: Construct, id: string, props: { name: string; policy: GuardrailPolicy }) {
    super(scope, id);
    const settings = guardrailSettings(props.policy);
    this.guardrail = new BedrockGuardrail(this, 'guardrail', { name: props.name, ...settings });
    const hash = createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 12);
    this.version = new BedrockGuardrailVersion(this, 'version', {
      guardrailArn: this.guardrail.guardrailArn,
      description: `policy ${hash}`,
      skipDestroy: true,
    });
  }
}
