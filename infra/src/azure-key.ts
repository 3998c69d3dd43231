import { DeleteObjectsCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { deployEnvironments, loadDeployConfig, type DeployEnvironment } from './config';
import { resourceNames, statesThatHeldTheAzureKey } from './names';

// The Azure OpenAI key's way into AWS, and the clean-up after rotating it (docs/deployment.md, "Secrets and
// their rotation"). Run by the workflows (infra-apply.yml's sync, rotate-azure-key.yml), with the deploy role:
//   AZURE_KEY=<key> tsx src/azure-key.ts sync <env>        the key into its secret, only if it differs
//   tsx src/azure-key.ts purge-state-versions <env>         drop every older version of the states that held it
// The key comes from the environment, never from the command line, and is never printed.

/**
 * Makes the secret hold `key`: reads the current value and writes a new version only when it differs, so
 * running it twice, or after a rotation already wrote the key, changes nothing. The caller passes the key
 * Azure has now (read live from the account), so the secret can only move to the current key, never back.
 */
export async function syncAzureKey(
  client: SecretsManagerClient,
  secretId: string,
  key: string,
): Promise<'unchanged' | 'updated'> {
  if (!key)
    throw new Error('no key given: the Azure OpenAI account has no key (AZURE_OPENAI_LOCAL_AUTH=false?)');
  let current: string | undefined;
  try {
    current = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (error) {
    // A secret Terraform just created has no value yet.
    if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
  }
  if (current === key) return 'unchanged';
  await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: key }));
  return 'updated';
}

/**
 * Deletes every version of the state objects `keys` but the current one (and old delete markers): after a
 * rotation the current states hold only the new keys, and the older versions are the ones that held the
 * old key. Returns how many versions it deleted.
 */
export async function purgeOldStateVersions(
  client: S3Client,
  bucket: string,
  keys: string[],
): Promise<number> {
  let deleted = 0;
  for (const key of keys) {
    const old: { Key: string; VersionId: string }[] = [];
    let marker: { KeyMarker?: string; VersionIdMarker?: string } = {};
    for (;;) {
      const page = await client.send(
        new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, ...marker }),
      );
      for (const entry of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) {
        // The prefix also matches `<key>.tflock` and the like: only the key itself.
        if (entry.Key === key && !entry.IsLatest && entry.VersionId)
          old.push({ Key: key, VersionId: entry.VersionId });
      }
      if (!page.IsTruncated) break;
      marker = { KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker };
    }
    for (let i = 0; i < old.length; i += 1000) {
      const batch = old.slice(i, i + 1000);
      const answer = await client.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: false } }),
      );
      if (answer.Errors?.length) {
        throw new Error(
          `could not delete ${answer.Errors.length} version(s) of ${key}: ${answer.Errors[0]?.Message}`,
        );
      }
      deleted += answer.Deleted?.length ?? 0;
    }
  }
  return deleted;
}

async function main(): Promise<number> {
  const [command, env] = process.argv.slice(2) as [string, DeployEnvironment];
  if (!['sync', 'purge-state-versions'].includes(command) || !deployEnvironments.includes(env)) {
    console.error(
      `usage: tsx src/azure-key.ts <sync|purge-state-versions> <${deployEnvironments.join('|')}>`,
    );
    return 2;
  }
  const config = loadDeployConfig(env);
  const names = resourceNames(config);
  if (command === 'sync') {
    const client = new SecretsManagerClient({ region: config.AWS_REGION });
    const result = await syncAzureKey(client, names.azureKeySecret, process.env.AZURE_KEY ?? '');
    console.log(
      result === 'updated'
        ? `${names.azureKeySecret}: new version with the current key`
        : `${names.azureKeySecret} already holds the current key: unchanged`,
    );
    return 0;
  }
  const client = new S3Client({ region: config.AWS_REGION });
  const keys = statesThatHeldTheAzureKey(config);
  const deleted = await purgeOldStateVersions(client, config.TF_STATE_BUCKET, keys);
  console.log(`s3://${config.TF_STATE_BUCKET}: deleted ${deleted} older version(s) of ${keys.join(' and ')}`);
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`azure-key: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
