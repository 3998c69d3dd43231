import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version';
import { Construct } from 'constructs';
import type { ResourceNames } from '../names';

/**
 * The two secrets the functions read. Neither value is in code or in an output:
 * - the Azure OpenAI key arrives as the sensitive variable `azure_openai_api_key` (the pipeline reads it
 *   from the Azure stack's sensitive output and passes it as TF_VAR_azure_openai_api_key);
 * - the API keys secret is created empty; its value is put by an operator (`aws secretsmanager
 *   put-secret-value`, see docs/infrastructure.md), so it never passes through Terraform state.
 */
export class Secrets extends Construct {
  readonly azureOpenAiKey: SecretsmanagerSecret;
  readonly apiKeys: SecretsmanagerSecret;

  constructor(scope: Construct, id: string, props: { names: ResourceNames; azureOpenAiKey: string }) {
    super(scope, id);
    this.azureOpenAiKey = new SecretsmanagerSecret(this, 'azure-openai-key', {
      name: props.names.azureKeySecret,
      description: 'Azure OpenAI API key for the API and worker functions',
      recoveryWindowInDays: 7,
    });
    new SecretsmanagerSecretVersion(this, 'azure-openai-key-value', {
      secretId: this.azureOpenAiKey.id,
      secretString: props.azureOpenAiKey,
    });
    this.apiKeys = new SecretsmanagerSecret(this, 'api-keys', {
      name: props.names.apiKeysSecret,
      description: 'API keys accepted in x-api-key (value put by an operator, never by Terraform)',
      recoveryWindowInDays: 7,
    });
  }
}
