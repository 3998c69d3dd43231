import { CognitiveAccount } from '@cdktf/provider-azurerm/lib/cognitive-account';
import { CognitiveDeployment } from '@cdktf/provider-azurerm/lib/cognitive-deployment';
import { AzurermProvider } from '@cdktf/provider-azurerm/lib/provider';
import { ResourceGroup } from '@cdktf/provider-azurerm/lib/resource-group';
import { TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Config } from '@mc-vision/core/config/index';
import type { Construct } from 'constructs';
import { s3Backend } from '../providers';

/** The model the platform's Azure describer calls. */
export const azureModel = { name: 'gpt-4o-mini', format: 'OpenAI' } as const;

/**
 * Azure OpenAI: a resource group, the OpenAI account (custom subdomain, so the endpoint is known from the
 * configuration; key auth as configured) and the GPT-4o-mini deployment. The subscription and the OIDC
 * login come from the environment (ARM_SUBSCRIPTION_ID, ARM_USE_OIDC, ...), never from code. State lives in
 * the same S3 backend as the AWS stacks.
 */
export class AzureOpenAiStack extends TerraformStack {
  constructor(scope: Construct, id: string, config: Config) {
    super(scope, id);
    new AzurermProvider(this, 'azurerm', { features: [{}] });
    s3Backend(this, config, 'azure-openai');

    const capacity = new TerraformVariable(this, 'openai_capacity', {
      type: 'number',
      default: config.AZURE_OPENAI_CAPACITY,
      description: 'GPT-4o-mini deployment capacity, in thousands of tokens per minute',
    });
    const tags = { project: config.NAME_PREFIX, environment: config.DEPLOY_ENV, 'managed-by': 'cdktf' };
    const group = new ResourceGroup(this, 'resource-group', {
      name: config.AZURE_RESOURCE_GROUP,
      location: config.AZURE_LOCATION,
      tags,
    });
    const account = new CognitiveAccount(this, 'openai', {
      name: config.AZURE_OPENAI_ACCOUNT,
      customSubdomainName: config.AZURE_OPENAI_ACCOUNT,
      kind: 'OpenAI',
      skuName: 'S0',
      location: group.location,
      resourceGroupName: group.name,
      localAuthEnabled: config.AZURE_OPENAI_LOCAL_AUTH,
      tags,
    });
    const deployment = new CognitiveDeployment(this, 'gpt-4o-mini', {
      name: config.AZURE_OPENAI_DEPLOYMENT,
      cognitiveAccountId: account.id,
      model: { ...azureModel, version: config.AZURE_OPENAI_MODEL_VERSION },
      sku: { name: config.AZURE_OPENAI_SKU, capacity: capacity.numberValue },
      // A model version is part of the contract (output shape, price): upgrades are a config change.
      versionUpgradeOption: 'NoAutoUpgrade',
    });

    new TerraformOutput(this, 'endpoint', { value: account.endpoint });
    new TerraformOutput(this, 'deployment_name', { value: deployment.name });
    // No key output: the workflows read the account's key live from Azure (az cognitiveservices account keys
    // list), so a state from before a rotation can never hand them a revoked one.
  }
}
