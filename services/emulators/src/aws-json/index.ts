export { writeFileAtomic } from './atomic-write.ts';
export {
  awsJsonActionFor,
  awsJsonProtocol,
  validationMessage,
  type AwsJsonAction,
  type AwsJsonActions,
  type AwsJsonProtocol,
  type AwsJsonService,
  type AwsJsonVersion,
} from './protocol.ts';
export { decodePageToken, encodePageToken, toEpochSeconds } from './wire.ts';
