import { HttpError } from '../http.ts';

// Bedrock runtime errors as the service sends them (restJson1): the type in `x-amzn-errortype`, `{message}` in the
// body, so `@aws-sdk/client-bedrock-runtime` raises the matching exception class.

export const bedrockErrorTypes = {
  ValidationException: {
    status: 400,
    message: 'Malformed input request, please reformat your input and try again.',
  },
  AccessDeniedException: { status: 403, message: 'You do not have access to the requested resource.' },
  ResourceNotFoundException: { status: 404, message: 'The specified resource does not exist.' },
  ModelTimeoutException: {
    status: 408,
    message: 'Model has timed out in processing the request. Try your request again.',
  },
  ModelErrorException: { status: 424, message: 'The model encountered an error processing the request.' },
  ThrottlingException: { status: 429, message: 'Too many requests, please wait before trying again.' },
  ModelNotReadyException: { status: 429, message: 'Model is not ready to serve inference requests.' },
  InternalServerException: { status: 500, message: 'The server encountered an internal error.' },
  ServiceUnavailableException: { status: 503, message: 'Bedrock is unable to process your request.' },
} as const;
export type BedrockErrorType = keyof typeof bedrockErrorTypes;

export function bedrockError(
  type: BedrockErrorType,
  message: string = bedrockErrorTypes[type].message,
  extra: { fields?: Record<string, unknown>; headers?: Record<string, string> } = {},
): HttpError {
  return new HttpError(
    bedrockErrorTypes[type].status,
    { message, ...extra.fields },
    { 'x-amzn-errortype': type, ...extra.headers },
  );
}

/** The error type a fault with this status renders as, unless the fault names one. */
export function bedrockErrorTypeFor(status: number, type?: string): BedrockErrorType | undefined {
  if (type) {
    return type in bedrockErrorTypes && bedrockErrorTypes[type as BedrockErrorType].status === status
      ? (type as BedrockErrorType)
      : undefined;
  }
  const match = Object.entries(bedrockErrorTypes).find(([, spec]) => spec.status === status);
  return match?.[0] as BedrockErrorType | undefined;
}
