import { awsJsonProtocol } from '../aws-json/index.ts';

// Step Functions on the AWS JSON 1.0 protocol: `X-Amz-Target: AWSStepFunctions.<Action>`, timestamps as epoch
// seconds, errors as HTTP 400 `{"__type": "<ErrorCode>", "message": ...}`, which `@aws-sdk/client-sfn` maps to
// its exception classes.

export const sfnProtocol = awsJsonProtocol({
  targetPrefix: 'AWSStepFunctions',
  version: '1.0',
  maxBodyBytes: 1024 * 1024,
});

export type SfnErrorCode =
  | 'ExecutionAlreadyExists'
  | 'ExecutionDoesNotExist'
  | 'StateMachineDoesNotExist'
  | 'InvalidArn'
  | 'InvalidName'
  | 'InvalidExecutionInput'
  | 'InvalidToken'
  | 'ValidationException';

export function sfnError(code: SfnErrorCode, message: string, status = 400) {
  return sfnProtocol.error(code, message, status);
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what the rule forbids
const forbiddenNameCharacters = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;

/** Step Functions' rule for execution names: 1-80 characters, none of whitespace, brackets, wildcards, specials. */
export function isValidExecutionName(name: string): boolean {
  return name.length >= 1 && name.length <= 80 && !forbiddenNameCharacters.test(name);
}
