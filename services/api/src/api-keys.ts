import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';

/**
 * The API keys secret: a JSON array of keys, e.g. `["k3y-one…", "k3y-two…"]`. More than one lets a key be
 * rotated without downtime: add the new key, move the callers, remove the old one.
 */
export const apiKeysSecretSchema = z
  .array(z.string().min(16, 'API keys must have at least 16 characters'))
  .min(1);

/** How long a secret value is reused before Secrets Manager is asked again (a rotation shows within this). */
export const secretMaxAgeSeconds = 300;

/** The accepted API keys, from the secret named by `API_KEYS_SECRET_ARN`. */
export function secretApiKeys(
  readSecret: (secretId: string) => Promise<string>,
  secretArn: string,
): () => Promise<readonly string[]> {
  return async () => {
    const value = await readSecret(secretArn);
    if (value === '') throw new Error(`secret ${secretArn} has no string value`);
    const parsed = apiKeysSecretSchema.safeParse(JSON.parse(value));
    if (!parsed.success)
      throw new Error('the API keys secret must be a JSON array of keys (16+ characters each)');
    return parsed.data;
  };
}

/** Where the laptop keeps its generated key. */
export const apiKeyFile = (dataDir: string) => join(dataDir, 'api-key');

/**
 * The laptop's key: `API_KEY` when set, else the key in `<dataDir>/api-key`, generated (owner-only file) on
 * first start and reused after.
 */
export async function localApiKey(dataDir: string, configured?: string): Promise<string> {
  if (configured) return configured;
  const file = apiKeyFile(dataDir);
  const existing = await readKeyFile(file);
  if (existing) return existing;
  await mkdir(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64url');
  try {
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return (await readKeyFile(file))!;
    throw error;
  }
}

async function readKeyFile(file: string): Promise<string | undefined> {
  let key: string;
  try {
    key = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (key.length < 16)
    throw new Error(`${file} does not hold an API key (16+ characters); delete it to get a new one`);
  return key;
}
