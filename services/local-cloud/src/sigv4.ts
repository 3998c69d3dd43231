import { HttpRequest } from '@smithy/core/protocols';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { matchesSecret } from '@mc-vision/core';

// DynamoDB and S3 on the laptop accept only requests signed (AWS Signature Version 4) with the local cloud's
// credentials, as the services do. The signature is not recomputed by hand: the request is signed again with
// the AWS SDK's own signer (`@smithy/signature-v4`) — with the headers, date, region and service the request
// names — and the two signatures are compared. Both forms are checked: the `Authorization` header (the SDK
// clients) and the query string (presigned URLs, e.g. the API's presigned uploads).

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Why a request is refused: the services each answer these in their own words. */
export type SignatureProblem = 'missing' | 'malformed' | 'unknownKey' | 'mismatch' | 'expired';

export interface SignedRequest {
  method: string;
  /** The request target as received: path and query, still encoded. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The body, when the signature covers it (DynamoDB); S3 signs `x-amz-content-sha256` instead. */
  body?: Uint8Array;
}

export interface SignatureExpectation {
  /** The signing name the requests must be signed for: `dynamodb`, `s3`. */
  service: string;
  credentials: Credentials;
  now?: Date;
}

/** AWS refuses a signature whose date is further than this from its clock. */
const maxSkewMs = 15 * 60 * 1000;

const authQuery = {
  algorithm: 'X-Amz-Algorithm',
  credential: 'X-Amz-Credential',
  date: 'X-Amz-Date',
  expires: 'X-Amz-Expires',
  signedHeaders: 'X-Amz-SignedHeaders',
  signature: 'X-Amz-Signature',
} as const;

interface Offered {
  accessKeyId: string;
  region: string;
  service: string;
  date: Date;
  signedHeaders: string[];
  signature: string;
  /** Presigned: seconds the URL is valid for. */
  expiresIn?: number;
}

/** `YYYYMMDDTHHMMSSZ` → a Date, checked against the credential scope's `YYYYMMDD`. */
function parseAmzDate(value: string | undefined, scopeDate: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  if (!match || value!.slice(0, 8) !== scopeDate) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, ...number[]];
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
}

/** `<key>/<YYYYMMDD>/<region>/<service>/aws4_request`, the signed-header list and the signature. */
function parseOffered(
  credential: string | undefined,
  signedHeaders: string | undefined,
  signature: string | undefined,
  amzDate: string | undefined,
): Offered | undefined {
  const scope = /^([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request$/.exec(credential ?? '');
  if (!scope || !signedHeaders || !/^[0-9a-f]{64}$/.test(signature ?? '')) return undefined;
  const date = parseAmzDate(amzDate, scope[2]!);
  const headers = signedHeaders.split(';');
  if (!date || !headers.includes('host')) return undefined;
  return {
    accessKeyId: scope[1]!,
    region: scope[3]!,
    service: scope[4]!,
    date,
    signedHeaders: headers,
    signature: signature!,
  };
}

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(',') : value);

/** Checks `request`'s SigV4 signature; `undefined` when it is valid for `expected`. */
export async function checkSignature(
  request: SignedRequest,
  expected: SignatureExpectation,
): Promise<SignatureProblem | undefined> {
  const now = expected.now ?? new Date();
  const [path = '/', search = ''] = request.url.split(/\?(.*)/s);
  const query = new URLSearchParams(search);
  const authorization = single(request.headers.authorization);
  const presigned = query.has(authQuery.algorithm);
  if (!authorization && !presigned) return 'missing';
  if (authorization && presigned) return 'malformed';

  let offered: Offered | undefined;
  if (authorization) {
    const [algorithm, ...rest] = authorization.trim().split(/\s+/);
    const fields = Object.fromEntries(
      rest
        .join('')
        .split(',')
        .map((field) => field.split(/=(.*)/s) as [string, string]),
    );
    if (algorithm !== 'AWS4-HMAC-SHA256') return 'malformed';
    offered = parseOffered(
      fields.Credential,
      fields.SignedHeaders,
      fields.Signature,
      single(request.headers['x-amz-date']),
    );
  } else {
    if (query.get(authQuery.algorithm) !== 'AWS4-HMAC-SHA256') return 'malformed';
    const expiresIn = Number(query.get(authQuery.expires));
    offered = parseOffered(
      query.get(authQuery.credential) ?? undefined,
      query.get(authQuery.signedHeaders) ?? undefined,
      query.get(authQuery.signature) ?? undefined,
      query.get(authQuery.date) ?? undefined,
    );
    if (offered && Number.isInteger(expiresIn) && expiresIn > 0 && expiresIn <= 604_800) {
      offered.expiresIn = expiresIn;
    } else {
      offered = undefined;
    }
  }
  if (!offered || offered.service !== expected.service) return 'malformed';
  if (!matchesSecret(offered.accessKeyId, expected.credentials.accessKeyId)) return 'unknownKey';
  const age = now.getTime() - offered.date.getTime();
  if (age < -maxSkewMs) return 'expired';
  if (offered.expiresIn === undefined ? age > maxSkewMs : age > offered.expiresIn * 1000) return 'expired';

  // The request as the client signed it: only the headers it signed; a presigned URL's hoisted `X-Amz-*`
  // parameters (but not the signature's own) go back to being headers, so that presigning hoists them again.
  const headers: Record<string, string> = {};
  for (const name of offered.signedHeaders) {
    const value = single(request.headers[name]);
    if (value === undefined) return 'malformed';
    headers[name] = value;
  }
  const own = new Set<string>(Object.values(authQuery));
  const params: Record<string, string | string[]> = {};
  for (const key of new Set(query.keys())) {
    if (own.has(key)) continue;
    if (presigned && key.toLowerCase().startsWith('x-amz-')) headers[key] = query.get(key)!;
    else {
      const values = query.getAll(key);
      params[key] = values.length === 1 ? values[0]! : values;
    }
  }
  // The signature covers the body through its declared hash (`x-amz-content-sha256`, which the SDK sends and
  // signs): a body that does not match it is not the body that was signed.
  const declaredHash = headers['x-amz-content-sha256'];
  if (request.body && declaredHash && /^[0-9a-f]{64}$/.test(declaredHash)) {
    if (createHash('sha256').update(request.body).digest('hex') !== declaredHash) return 'mismatch';
  }
  const host = headers.host!;
  const toSign = new HttpRequest({
    method: request.method,
    protocol: 'http:',
    hostname: host.replace(/:\d+$/, ''),
    path,
    query: params,
    headers,
    ...(request.body ? { body: request.body } : {}),
  });
  const signer = new SignatureV4({
    service: expected.service,
    region: offered.region,
    credentials: expected.credentials,
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: expected.service !== 's3',
    applyChecksum: false,
  });
  const options = {
    signingDate: offered.date,
    signingRegion: offered.region,
    signingService: offered.service,
    signableHeaders: new Set(offered.signedHeaders),
  };
  let signature: string | undefined;
  if (offered.expiresIn === undefined) {
    const signed = await signer.sign(toSign, options);
    signature = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ''))?.[1];
  } else {
    const unhoistableHeaders = new Set(offered.signedHeaders.filter((name) => name.startsWith('x-amz-')));
    const signed = await signer.presign(toSign, {
      ...options,
      unhoistableHeaders,
      expiresIn: offered.expiresIn,
    });
    signature = String(signed.query?.[authQuery.signature] ?? '');
  }
  return matchesSecret(offered.signature, signature ?? '') ? undefined : 'mismatch';
}
