import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

// Events as Lambda receives them (payload format 2.0, shared by API Gateway HTTP APIs and Function URLs):
// headers lower-cased, the query string raw, a binary body base64-encoded with `isBase64Encoded: true`.

export interface EventRequest {
  method: string;
  path: string;
  query?: string;
  headers?: Record<string, string>;
  /** Bytes are sent base64-encoded (as Lambda delivers binary bodies); a string as text. */
  body?: Uint8Array | string;
}

function event(request: EventRequest, host: string, apiId: string): APIGatewayProxyEventV2 {
  const isBinary = request.body instanceof Uint8Array;
  const body =
    request.body === undefined
      ? undefined
      : isBinary
        ? Buffer.from(request.body).toString('base64')
        : (request.body as string);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: request.path,
    rawQueryString: request.query ?? '',
    headers: {
      host,
      'user-agent': 'curl/8.5.0',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https',
      ...(request.body !== undefined
        ? { 'content-length': String(Buffer.byteLength(request.body as string)) }
        : {}),
      ...request.headers,
    },
    ...(request.query
      ? { queryStringParameters: Object.fromEntries(new URLSearchParams(request.query)) }
      : {}),
    requestContext: {
      accountId: '123456789012',
      apiId,
      domainName: host,
      domainPrefix: apiId,
      http: {
        method: request.method,
        path: request.path,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'curl/8.5.0',
      },
      requestId: 'JKJaXmPLvHcESHA=',
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body !== undefined ? { body, isBase64Encoded: isBinary } : { isBase64Encoded: false }),
  };
}

export const httpApiEvent = (request: EventRequest) =>
  event(request, 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com', 'a1b2c3d4e5');

/** Function URLs use the same format; their host and apiId are the URL id. */
export const functionUrlEvent = (request: EventRequest) =>
  event(
    request,
    'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws',
    'abcdefghijklmnopqrstuvwxyz012345',
  );

export const lambdaContext = (): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'mc-vision-api',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:mc-vision-api',
  memoryLimitInMB: '1024',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/mc-vision-api',
  logStreamName: '2026/11/25/[$LATEST]abcdef',
  getRemainingTimeInMillis: () => 30_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
});
