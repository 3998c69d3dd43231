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
export { accountIdSchema, decodePageToken, encodePageToken, regionSchema, toEpochSeconds } from './wire.ts';
