import { z } from 'zod';
import { HttpError } from '../http.ts';
import { executionStatuses } from './store.ts';

// The AWS JSON 1.0 protocol of Step Functions: `POST /` with `X-Amz-Target: AWSStepFunctions.<Action>`, JSON in
// and out, timestamps as epoch seconds, errors as HTTP 400 `{"__type": "<ErrorCode>", "message": ...}` (which
// `@aws-sdk/client-sfn` maps to its exception classes by `__type`).

export const contentType = 'application/x-amz-json-1.0';

export type SfnErrorCode =
  | 'ExecutionAlreadyExists'
  | 'ExecutionDoesNotExist'
  | 'StateMachineDoesNotExist'
  | 'InvalidArn'
  | 'InvalidName'
  | 'InvalidExecutionInput'
  | 'InvalidToken'
  | 'ValidationException'
  | 'SerializationException'
  | 'UnknownOperationException'
  | 'InternalFailure';

export function sfnError(code: SfnErrorCode, message: string, status = 400): HttpError {
  return new HttpError(status, { __type: code, message }, { 'content-type': contentType });
}

const arn = z.string().min(1).max(2048);
const maxResults = z.number().int().min(0).max(1000).optional();
const nextToken = z.string().min(1).max(3096).optional();

export const actionSchemas = {
  StartExecution: z.looseObject({
    stateMachineArn: arn,
    name: z.string().optional(),
    input: z.string().optional(),
    traceHeader: z.string().max(256).optional(),
  }),
  DescribeExecution: z.looseObject({ executionArn: arn }),
  GetExecutionHistory: z.looseObject({
    executionArn: arn,
    maxResults,
    nextToken,
    reverseOrder: z.boolean().optional(),
    includeExecutionData: z.boolean().optional(),
  }),
  ListExecutions: z.looseObject({
    stateMachineArn: arn.optional(),
    mapRunArn: arn.optional(),
    statusFilter: z.enum([...executionStatuses, 'PENDING_REDRIVE']).optional(),
    maxResults,
    nextToken,
  }),
  StopExecution: z.looseObject({
    executionArn: arn,
    error: z.string().max(256).optional(),
    cause: z.string().max(32768).optional(),
  }),
  DescribeStateMachine: z.looseObject({ stateMachineArn: arn }),
} as const;
export type Action = keyof typeof actionSchemas;

// eslint-disable-next-line no-control-regex -- control characters are exactly what the rule forbids
const forbiddenNameCharacters = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;

/** Step Functions' rule for execution names: 1-80 characters, none of whitespace, brackets, wildcards, specials. */
export function isValidExecutionName(name: string): boolean {
  return name.length >= 1 && name.length <= 80 && !forbiddenNameCharacters.test(name);
}

/** Epoch milliseconds → the protocol's epoch seconds. */
export function toEpochSeconds(ms: number): number {
  return Math.round(ms) / 1000;
}

/** Opaque page tokens (base64url JSON), checked against the request they were issued for. */
export function encodeToken(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeToken(token: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw sfnError('InvalidToken', `Invalid Token: '${token}'`);
}
