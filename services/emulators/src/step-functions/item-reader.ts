import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { DistributedMapState } from './definition.ts';
import { evaluatePath, evaluatePayload } from './payload.ts';

// A Distributed Map's items, read as Step Functions reads them: its ItemReader through the SDK (ListObjectsV2 over
// a prefix, or GetObject of a JSON array), or, without one, the array at ItemsPath of the state's input. Both
// stop at ReaderConfig.MaxItems.

/** The S3 actions an ItemReader may name that the emulator runs. */
const readerAction = (resource: string) => resource.replace(/^arn:aws[\w-]*:states:::s3:/, '');

export async function readItems(
  s3: S3Client | undefined,
  map: DistributedMapState,
  input: unknown,
  context: Record<string, unknown>,
): Promise<unknown[]> {
  const reader = map.ItemReader;
  if (!reader) {
    const items = await evaluatePath(map.ItemsPath ?? '$', input);
    if (!Array.isArray(items)) throw new Error('The Map state input at ItemsPath is not an array');
    return items;
  }
  if (!s3) throw new Error('This emulator was started without an S3 client for ItemReader');
  const parameters = (await evaluatePayload(reader.Parameters ?? {}, input, context)) as {
    Bucket: string;
    Key?: string;
    Prefix?: string;
  };
  const maxItems = reader.ReaderConfig?.MaxItems ?? Number.POSITIVE_INFINITY;
  const action = readerAction(reader.Resource);
  if (action === 'listObjectsV2') return (await listObjects(s3, parameters, maxItems)).slice(0, maxItems);
  if (action === 'getObject')
    return (await jsonArray(s3, parameters, reader.ReaderConfig?.InputType)).slice(0, maxItems);
  throw new Error(`ItemReader resource ${reader.Resource} is not emulated`);
}

/**
 * Every object under the prefix, each as Step Functions hands a listed object to an item: `Etag` (so spelled,
 * quotes included), `Key`, `LastModified` in epoch seconds, `Size`, `StorageClass`.
 */
async function listObjects(s3: S3Client, parameters: { Bucket: string; Prefix?: string }, maxItems: number) {
  const items: unknown[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ ...parameters, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      items.push({
        Etag: object.ETag,
        Key: object.Key,
        LastModified: Math.floor((object.LastModified?.getTime() ?? 0) / 1000),
        Size: object.Size,
        StorageClass: object.StorageClass ?? 'STANDARD',
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token && items.length < maxItems);
  return items;
}

/** The object as a JSON array (ReaderConfig InputType JSON, the only input type emulated). */
async function jsonArray(s3: S3Client, parameters: { Bucket: string; Key?: string }, inputType = 'JSON') {
  if (inputType !== 'JSON') throw new Error(`ItemReader InputType ${inputType} is not emulated (JSON is)`);
  const object = await s3.send(new GetObjectCommand({ Bucket: parameters.Bucket, Key: parameters.Key }));
  const text = (await object.Body?.transformToString()) ?? '';
  let items: unknown;
  try {
    items = JSON.parse(text);
  } catch {
    throw new Error(`The object ${String(parameters.Key)} is not valid JSON`);
  }
  if (!Array.isArray(items)) throw new Error(`The object ${String(parameters.Key)} is not a JSON array`);
  return items;
}
