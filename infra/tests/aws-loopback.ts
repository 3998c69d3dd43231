import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A stand-in AWS account on 127.0.0.1 for the tests of `pnpm preflight` and the Azure key tools: one HTTP
// server answering the few operations they make, in each service's own wire protocol, so the real SDK
// clients (pointed at it with `endpoint`) serialize, sign, send and parse exactly as they would against AWS:
// Lambda's REST-JSON, Service Quotas', ECR's and Secrets Manager's AWS JSON 1.1, DynamoDB's AWS JSON 1.0 and
// S3's REST-XML. What the account holds is the test's to set and to read back.

export interface ObjectVersion {
  key: string;
  versionId: string;
  isLatest: boolean;
  deleteMarker?: boolean;
}

export interface FakeAccount {
  accountId: string;
  lambda: { concurrentExecutions: number; unreservedConcurrentExecutions: number };
  /** Functions that exist, with their reserved concurrency (undefined: none reserved). */
  functions: Record<string, number | undefined>;
  /** Applied quota values by `<service>/<code>`; `defaultQuotas` are AWS's defaults. */
  quotas: Record<string, number>;
  defaultQuotas: Record<string, number>;
  /** Buckets and their object versions (the latest of a key is its current object). */
  buckets: Record<string, ObjectVersion[]>;
  tables: string[];
  /** ECR repositories and their image tags. */
  repositories: Record<string, string[]>;
  /** Secrets by name, with their versions' values, newest last. */
  secrets: Record<string, string[]>;
}

export interface FakeAws {
  endpoint: string;
  account: FakeAccount;
  /** Every request, in order: the X-Amz-Target of a JSON one, `<service>.<operation>` of the others. */
  calls: string[];
  /** What an SDK client needs to talk to this account instead of AWS (S3 clients add `forcePathStyle`). */
  clientOptions: {
    region: string;
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    maxAttempts: number;
  };
  close(): Promise<void>;
}

const json11 = 'application/x-amz-json-1.1';
const json10 = 'application/x-amz-json-1.0';

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  type: string,
  headers: Record<string, string> = {},
) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'x-amzn-requestid': 'loopback-request', ...headers });
  res.end(text);
}

/** An AWS JSON protocol error: `__type` names the error, as the SDK's deserializer reads it. */
const jsonError = (res: ServerResponse, type: string, name: string, message: string) =>
  send(res, 400, { __type: name, message }, type);

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const xml = (res: ServerResponse, status: number, text: string) =>
  send(res, status, `<?xml version="1.0" encoding="UTF-8"?>\n${text}`, 'application/xml');
const s3Error = (res: ServerResponse, status: number, code: string, message: string) =>
  xml(res, status, `<Error><Code>${code}</Code><Message>${message}</Message></Error>`);

function lambda(account: FakeAccount, req: IncomingMessage, res: ServerResponse, calls: string[]): boolean {
  const path = new URL(req.url ?? '/', 'http://loopback').pathname;
  if (req.method === 'GET' && path.replace(/\/$/, '') === '/2016-08-19/account-settings') {
    calls.push('lambda.GetAccountSettings');
    send(
      res,
      200,
      {
        AccountLimit: {
          CodeSizeUnzipped: 262144000,
          CodeSizeZipped: 52428800,
          ConcurrentExecutions: account.lambda.concurrentExecutions,
          TotalCodeSize: 80530636800,
          UnreservedConcurrentExecutions: account.lambda.unreservedConcurrentExecutions,
        },
        AccountUsage: { FunctionCount: Object.keys(account.functions).length, TotalCodeSize: 0 },
      },
      'application/json',
    );
    return true;
  }
  const concurrency = path.match(/^\/2019-09-30\/functions\/([^/]+)\/concurrency$/);
  if (req.method === 'GET' && concurrency) {
    calls.push('lambda.GetFunctionConcurrency');
    const name = decodeURIComponent(concurrency[1]!);
    if (!(name in account.functions)) {
      send(
        res,
        404,
        {
          Type: 'User',
          message: `Function not found: arn:aws:lambda:us-east-1:${account.accountId}:function:${name}`,
        },
        'application/json',
        { 'x-amzn-errortype': 'ResourceNotFoundException' },
      );
    } else {
      const reserved = account.functions[name];
      send(
        res,
        200,
        reserved === undefined ? {} : { ReservedConcurrentExecutions: reserved },
        'application/json',
      );
    }
    return true;
  }
  return false;
}

type JsonHandler = (account: FakeAccount, input: Record<string, unknown>, res: ServerResponse) => void;

const jsonOperations: Record<string, [string, JsonHandler]> = {
  'ServiceQuotasV20190624.GetServiceQuota': [
    json11,
    (account, input, res) => quotaAnswer(account.quotas, account, input, res),
  ],
  'ServiceQuotasV20190624.GetAWSDefaultServiceQuota': [
    json11,
    (account, input, res) => quotaAnswer(account.defaultQuotas, account, input, res),
  ],
  'DynamoDB_20120810.DescribeTable': [
    json10,
    (account, input, res) => {
      const name = String(input.TableName);
      if (!account.tables.includes(name)) {
        return jsonError(
          res,
          json10,
          'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
          `Requested resource not found: Table: ${name} not found`,
        );
      }
      send(
        res,
        200,
        {
          Table: {
            TableName: name,
            TableStatus: 'ACTIVE',
            TableArn: `arn:aws:dynamodb:us-east-1:${account.accountId}:table/${name}`,
            KeySchema: [{ AttributeName: 'LockID', KeyType: 'HASH' }],
            CreationDateTime: 1767225600,
          },
        },
        json10,
      );
    },
  ],
  'AmazonEC2ContainerRegistry_V20150921.DescribeImages': [
    json11,
    (account, input, res) => {
      const repository = String(input.repositoryName);
      const tags = account.repositories[repository];
      if (!tags) {
        return jsonError(
          res,
          json11,
          'RepositoryNotFoundException',
          `The repository with name '${repository}' does not exist in the registry with id '${account.accountId}'`,
        );
      }
      const wanted = (input.imageIds as { imageTag: string }[]).map((id) => id.imageTag);
      const missing = wanted.filter((tag) => !tags.includes(tag));
      if (missing.length > 0) {
        return jsonError(
          res,
          json11,
          'ImageNotFoundException',
          `The image with imageId {imageDigest:'null', imageTag:'${missing[0]}'} does not exist within the repository with name '${repository}' in the registry with id '${account.accountId}'`,
        );
      }
      send(
        res,
        200,
        {
          imageDetails: wanted.map((tag) => ({
            registryId: account.accountId,
            repositoryName: repository,
            imageDigest: `sha256:${'0'.repeat(64)}`,
            imageTags: [tag],
            imagePushedAt: 1767225600,
          })),
        },
        json11,
      );
    },
  ],
  'secretsmanager.GetSecretValue': [
    json11,
    (account, input, res) => {
      const name = String(input.SecretId);
      const versions = account.secrets[name];
      if (!versions || versions.length === 0) {
        return jsonError(
          res,
          json11,
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
        );
      }
      send(
        res,
        200,
        {
          ARN: `arn:aws:secretsmanager:us-east-1:${account.accountId}:secret:${name}-AbC123`,
          Name: name,
          VersionId: `v${versions.length}`,
          SecretString: versions.at(-1),
          VersionStages: ['AWSCURRENT'],
          CreatedDate: 1767225600,
        },
        json11,
      );
    },
  ],
  'secretsmanager.PutSecretValue': [
    json11,
    (account, input, res) => {
      const name = String(input.SecretId);
      if (!account.secrets[name]) {
        return jsonError(
          res,
          json11,
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret.",
        );
      }
      account.secrets[name].push(String(input.SecretString));
      send(
        res,
        200,
        {
          ARN: `arn:aws:secretsmanager:us-east-1:${account.accountId}:secret:${name}-AbC123`,
          Name: name,
          VersionId: `v${account.secrets[name].length}`,
          VersionStages: ['AWSCURRENT'],
        },
        json11,
      );
    },
  ],
};

/** A Service Quotas answer from `values` (applied or default), or its error for a quota it has no value of. */
function quotaAnswer(
  values: Record<string, number>,
  account: FakeAccount,
  input: Record<string, unknown>,
  res: ServerResponse,
) {
  const value = values[`${String(input.ServiceCode)}/${String(input.QuotaCode)}`];
  if (value === undefined) {
    return jsonError(
      res,
      json11,
      'NoSuchResourceException',
      'The request failed because the specified service quota does not exist.',
    );
  }
  send(res, 200, { Quota: quota(account, input, value) }, json11);
}

function quota(account: FakeAccount, input: Record<string, unknown>, value: number) {
  return {
    ServiceCode: input.ServiceCode,
    QuotaCode: input.QuotaCode,
    QuotaArn: `arn:aws:servicequotas:us-east-1:${account.accountId}:${String(input.ServiceCode)}/${String(input.QuotaCode)}`,
    QuotaName: 'Maximum total concurrency that can be allocated across all serverless endpoints',
    Value: value,
    Unit: 'None',
    Adjustable: true,
    GlobalQuota: false,
  };
}

async function s3(account: FakeAccount, req: IncomingMessage, res: ServerResponse, calls: string[]) {
  const url = new URL(req.url ?? '/', 'http://loopback');
  const [, bucket, ...rest] = url.pathname.split('/');
  const key = decodeURIComponent(rest.join('/'));
  const versions = account.buckets[bucket ?? ''];
  if (req.method === 'HEAD' && !key) {
    calls.push('s3.HeadBucket');
    if (!versions) return send(res, 404, '', 'application/xml');
    return send(res, 200, '', 'application/xml', { 'x-amz-bucket-region': 'us-east-1' });
  }
  if (!versions) return s3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
  if (req.method === 'HEAD') {
    calls.push('s3.HeadObject');
    const current = versions.find((v) => v.key === key && v.isLatest && !v.deleteMarker);
    if (!current) return send(res, 404, '', 'application/xml');
    return send(res, 200, '', 'application/octet-stream', {
      etag: '"d41d8cd98f00b204e9800998ecf8427e"',
      'last-modified': 'Thu, 01 Jan 2026 00:00:00 GMT',
      'x-amz-version-id': current.versionId,
    });
  }
  if (req.method === 'GET' && url.searchParams.has('versions')) {
    calls.push('s3.ListObjectVersions');
    const prefix = url.searchParams.get('prefix') ?? '';
    const entries = versions
      .filter((v) => v.key.startsWith(prefix))
      .map((v) => {
        const tag = v.deleteMarker ? 'DeleteMarker' : 'Version';
        return `<${tag}><Key>${v.key}</Key><VersionId>${v.versionId}</VersionId><IsLatest>${v.isLatest}</IsLatest><LastModified>2026-01-01T00:00:00.000Z</LastModified></${tag}>`;
      });
    return xml(
      res,
      200,
      `<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${prefix}</Prefix><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${entries.join('')}</ListVersionsResult>`,
    );
  }
  if (req.method === 'POST' && url.searchParams.has('delete')) {
    calls.push('s3.DeleteObjects');
    const text = await body(req);
    const objects = [
      ...text.matchAll(/<Object>\s*<Key>([^<]*)<\/Key>\s*<VersionId>([^<]*)<\/VersionId>\s*<\/Object>/g),
    ].map(([, k, id]) => ({ key: k!, versionId: id! }));
    account.buckets[bucket!] = versions.filter(
      (v) => !objects.some((o) => o.key === v.key && o.versionId === v.versionId),
    );
    const deleted = objects.map(
      (o) => `<Deleted><Key>${o.key}</Key><VersionId>${o.versionId}</VersionId></Deleted>`,
    );
    return xml(
      res,
      200,
      `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${deleted.join('')}</DeleteResult>`,
    );
  }
  return s3Error(res, 501, 'NotImplemented', `${req.method} ${url.pathname} is not part of this stand-in`);
}

export async function startFakeAws(account: FakeAccount): Promise<FakeAws> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const target = req.headers['x-amz-target'];
      if (typeof target === 'string') {
        const operation = jsonOperations[target];
        if (!operation) return jsonError(res, json11, 'UnknownOperationException', target);
        calls.push(target);
        const [, handle] = operation;
        return handle(account, JSON.parse((await body(req)) || '{}') as Record<string, unknown>, res);
      }
      if (lambda(account, req, res, calls)) return;
      return s3(account, req, res, calls);
    })().catch((error: unknown) => send(res, 500, { message: String(error) }, 'application/json'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    account,
    calls,
    clientOptions: {
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'AKIDLOOPBACK', secretAccessKey: 'loopback-secret' },
      // An error is the answer under test, not a reason to retry.
      maxAttempts: 1,
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
