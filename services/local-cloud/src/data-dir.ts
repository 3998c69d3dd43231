import { newSecret } from '@mc-vision/core';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// The data folder holds the API key, this run's token and credentials, the results, the images and every
// execution: only its owner may read it. It is made 0700, and what the local cloud keeps in it 0600 (0700 for
// its folders) at every start, which also tightens a folder an older version left readable; what the parts
// write later is kept private by the folder's own mode (and `pnpm start` runs with umask 077, so it is 0600
// too). Only the local cloud's own entries are touched: DATA_DIR may name a folder that holds other things.

/** What the local cloud keeps in its data folder (files, and folders that are its parts' alone). */
export const dataEntries = {
  files: ['api-key', 'admin-token', 'aws-credentials', 'azure-openai-key', 'outbox.jsonl', 'local-cloud.pid'],
  folders: { dynamodb: 'dynamodb', s3: 's3', stepFunctions: 'stepfunctions', cloudwatch: 'cloudwatch' },
} as const;

/** Creates `dataDir` and its parts' folders if missing, and makes them and what they hold owner-only. */
export async function prepareDataDir(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  for (const name of dataEntries.files) {
    await chmod(join(dataDir, name), 0o600).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  for (const name of Object.values(dataEntries.folders)) {
    await mkdir(join(dataDir, name), { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    await ownerOnly(join(dataDir, name));
  }
}

/** `dir` 0700, and everything under it 0600 (folders 0700). */
async function ownerOnly(dir: string): Promise<void> {
  await chmod(dir, 0o700);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await ownerOnly(path);
    else if (entry.isFile()) await chmod(path, 0o600);
  }
}

/** Writes a file only its owner can read (it may hold a secret). */
export async function writeOwnerOnly(file: string, text: string): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
  await chmod(file, 0o600);
}

/** A secret kept in a file under the data folder (owner-only), generated on first use. */
export async function keptSecret(file: string): Promise<string> {
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (existing.trim().length >= 16) return existing.trim();
  const secret = newSecret();
  await writeOwnerOnly(file, `${secret}\n`);
  return secret;
}

/**
 * This run's secrets: the admin token of the emulators' fault routes, the emulators' AWS credentials, and the
 * one-time code of the UI's sign-in link (printed only: it is spent on first use).
 */
export interface RunSecrets {
  adminToken: string;
  signInCode: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** The AWS profile in `<dataDir>/aws-credentials` (for the AWS CLI against the local DynamoDB and S3). */
export const localProfile = 'mc-vision-local';

/** New secrets for this run, written to `<dataDir>/admin-token` and `<dataDir>/aws-credentials` (0600). */
export async function newRunSecrets(dataDir: string): Promise<RunSecrets> {
  const secrets: RunSecrets = {
    adminToken: newSecret(),
    signInCode: newSecret(),
    // s3rver knows this one access key id only (and checks no version 4 signature itself); the secret is new.
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: newSecret() },
  };
  await writeOwnerOnly(join(dataDir, 'admin-token'), `${secrets.adminToken}\n`);
  await writeOwnerOnly(
    join(dataDir, 'aws-credentials'),
    `[${localProfile}]\naws_access_key_id = ${secrets.credentials.accessKeyId}\n` +
      `aws_secret_access_key = ${secrets.credentials.secretAccessKey}\n`,
  );
  return secrets;
}
