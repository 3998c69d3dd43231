import { afterEach, describe, expect, it } from '@jest/globals';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { purgeOldStateVersions, syncAzureKey } from '../src/azure-key';
import { resourceNames, statesThatHeldTheAzureKey } from '../src/names';
import { startFakeAws, type FakeAccount, type FakeAws } from './aws-loopback';
import { configOf } from './helpers';

// The Azure key's sync and the state clean-up after a rotation (src/azure-key.ts), through the real SDK
// clients, against a stand-in Secrets Manager and S3 on 127.0.0.1 (aws-loopback.ts).

const config = configOf('dev');
const names = resourceNames(config);
let aws: FakeAws | undefined;
afterEach(async () => {
  await aws?.close();
  aws = undefined;
});

async function start(account: Partial<FakeAccount>) {
  aws = await startFakeAws({
    accountId: config.AWS_ACCOUNT_ID,
    lambda: { concurrentExecutions: 1000, unreservedConcurrentExecutions: 1000 },
    functions: {},
    quotas: {},
    defaultQuotas: {},
    buckets: {},
    tables: [],
    repositories: {},
    secrets: {},
    ...account,
  });
  const options = { ...aws.clientOptions, region: config.AWS_REGION };
  return {
    secrets: new SecretsManagerClient(options),
    s3: new S3Client({ ...options, forcePathStyle: true }),
    account: aws.account,
  };
}

describe('the Azure key sync', () => {
  it('fills the secret Terraform created empty, then leaves it alone while the key is the same', async () => {
    const { secrets, account } = await start({ secrets: { [names.azureKeySecret]: [] } });
    expect(await syncAzureKey(secrets, names.azureKeySecret, 'key-one')).toBe('updated');
    expect(await syncAzureKey(secrets, names.azureKeySecret, 'key-one')).toBe('unchanged');
    expect(await syncAzureKey(secrets, names.azureKeySecret, 'key-one')).toBe('unchanged');
    expect(account.secrets[names.azureKeySecret]).toEqual(['key-one']);
  });

  it('after a rotation, an apply’s sync with the account’s current key changes nothing', async () => {
    // The rotation moved the secret to key 2, then to the new key 1.
    const { secrets, account } = await start({ secrets: { [names.azureKeySecret]: ['old-key-1'] } });
    expect(await syncAzureKey(secrets, names.azureKeySecret, 'old-key-2')).toBe('updated');
    expect(await syncAzureKey(secrets, names.azureKeySecret, 'new-key-1')).toBe('updated');
    // infra-apply reads key 1 live from the account: the new one, which the secret already holds.
    expect(await syncAzureKey(secrets, names.azureKeySecret, 'new-key-1')).toBe('unchanged');
    expect(account.secrets[names.azureKeySecret]).toEqual(['old-key-1', 'old-key-2', 'new-key-1']);
    expect(aws!.calls.filter((c) => c === 'secretsmanager.PutSecretValue')).toHaveLength(2);
  });

  it('refuses an empty key without writing anything', async () => {
    const { secrets, account } = await start({ secrets: { [names.azureKeySecret]: ['key-one'] } });
    await expect(syncAzureKey(secrets, names.azureKeySecret, '')).rejects.toThrow(/no key given/);
    expect(account.secrets[names.azureKeySecret]).toEqual(['key-one']);
    expect(aws!.calls).toEqual([]);
  });
});

describe('deleting the older state versions', () => {
  it('keeps only the current version of each state that held a key, and nothing else is touched', async () => {
    const [azureState, platformState] = statesThatHeldTheAzureKey(config);
    const bucket = config.TF_STATE_BUCKET;
    const { s3, account } = await start({
      buckets: {
        [bucket]: [
          { key: azureState!, versionId: 'a1', isLatest: false },
          { key: azureState!, versionId: 'a2', isLatest: false },
          { key: azureState!, versionId: 'a3', isLatest: true },
          { key: `${azureState!}.tflock`, versionId: 'l1', isLatest: false, deleteMarker: true },
          { key: platformState!, versionId: 'p1', isLatest: false },
          { key: platformState!, versionId: 'p2', isLatest: false, deleteMarker: true },
          { key: platformState!, versionId: 'p3', isLatest: true },
          { key: 'prod/azure-openai.tfstate', versionId: 'o1', isLatest: false },
        ],
      },
    });
    expect(await purgeOldStateVersions(s3, bucket, [azureState!, platformState!])).toBe(4);
    expect(account.buckets[bucket]!.map((v) => v.versionId)).toEqual(['a3', 'l1', 'p3', 'o1']);
    // Run again: nothing older is left.
    expect(await purgeOldStateVersions(s3, bucket, [azureState!, platformState!])).toBe(0);
  });
});
