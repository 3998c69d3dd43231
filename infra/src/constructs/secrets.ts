import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { Construct } from 'constructs';
import type { ResourceNames } from '../names';

/**
 * The two secrets the functions read, created **without a value**: no secret ever passes through Terraform,
 * so neither its variables, its plan nor the AWS platform's state holds one, and the plan role (which pull
 * requests can assume) needs no `GetSecretValue`.
 * - the Azure OpenAI key is put by the apply workflow's deploy job (and rotate-azure-key.yml), which reads
 *   the account's key live from Azure and writes it only when it differs (src/azure-key.ts);
 * - the API keys are put by an operator (docs/infrastructure.md).
 */
export class Secrets extends Construct {
  readonly azureOpenAiKey: SecretsmanagerSecret;
  readonly apiKeys: SecretsmanagerSecret;

  constructor(scope: Construct, id: string, props: { names: ResourceNames }) {
    super(scope, id);
    this.azureOpenAiKey = new SecretsmanagerSecret(this, 'azure-openai-key', {
      name: props.names.azureKeySecret,
      description: 'Azure OpenAI API key for the API and worker functions',
      recoveryWindowInDays: 7,
    });
    this.apiKeys = new SecretsmanagerSecret(this, 'api-keys', {
      name: props.names.apiKeysSecret,
      description: 'API keys accepted in x-api-key (value put by an operator, never by Terraform)',
      recoveryWindowInDays: 7,
    });
  }
}
