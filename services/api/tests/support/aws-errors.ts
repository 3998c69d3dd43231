import { serve } from './http.ts';

// An AWS JSON-protocol service (DynamoDB, Step Functions) that answers every request with one error, exactly
// as the service does on the wire: the status, `x-amzn-errortype` and a `{__type, message}` body. The real SDK
// clients parse it into their named exceptions (`ProvisionedThroughputExceededException`, ...), retrying the
// throttling ones first as they would against AWS.

export interface FailingAwsService {
  url: string;
  /** Requests answered so far, by their `x-amz-target` (`DynamoDB_20120810.Query`, `AWSStepFunctions.StartExecution`). */
  requests: string[];
  close(): Promise<void>;
}

export async function startFailingAwsService(
  errorType: string,
  options: { status?: number; retryAfterSeconds?: number } = {},
): Promise<FailingAwsService> {
  const requests: string[] = [];
  const server = await serve((req, res) => {
    req.resume();
    req.on('end', () => {
      requests.push(String(req.headers['x-amz-target'] ?? `${req.method} ${req.url}`));
      res.writeHead(options.status ?? 400, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-errortype': errorType,
        'x-amzn-requestid': 'f4a1c3e0-0000-4000-8000-000000000000',
        ...(options.retryAfterSeconds !== undefined
          ? { 'retry-after': String(options.retryAfterSeconds) }
          : {}),
      });
      res.end(JSON.stringify({ __type: errorType, message: `${errorType} (from the test's service)` }));
    });
  });
  return { url: server.url, requests, close: server.close };
}
