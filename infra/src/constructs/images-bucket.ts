import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import type { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { S3BucketCorsConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-cors-configuration';
import { S3BucketNotification } from '@cdktf/provider-aws/lib/s3-bucket-notification';
import type { Construct } from 'constructs';
import { imagesPrefix } from '../names';
import { SecureBucket } from './secure-bucket';

export interface ImagesBucketProps {
  name: string;
  account: string;
  /** Origins the web UI is served from: presigned PUTs come from the browser there. */
  uploadOrigins: string[];
  /** Images are kept as long as the results that refer to them. */
  retentionDays: number;
  noncurrentVersionDays: number;
  /** Receives an ObjectCreated event for every object under `images/`. */
  ingestFunction: LambdaFunction;
}

/** Where uploads land: a secure bucket with CORS for presigned PUTs and an ingest notification. */
export class ImagesBucket extends SecureBucket {
  constructor(scope: Construct, id: string, props: ImagesBucketProps) {
    super(scope, id, {
      name: props.name,
      noncurrentVersionDays: props.noncurrentVersionDays,
      lifecycleRules: [
        {
          id: 'expire-images-with-their-results',
          status: 'Enabled',
          filter: [{ prefix: imagesPrefix }],
          expiration: [{ days: props.retentionDays }],
        },
      ],
    });
    new S3BucketCorsConfiguration(this, 'cors', {
      bucket: this.bucket.id,
      corsRule: [
        {
          // The presigned URL is the credential (it signs key, type, length and expiry); any header the
          // API tells the browser to send may pass the preflight.
          allowedMethods: ['PUT'],
          allowedOrigins: props.uploadOrigins,
          allowedHeaders: ['*'],
          exposeHeaders: ['etag'],
          maxAgeSeconds: 3000,
        },
      ],
    });
    const permission = new LambdaPermission(this, 'ingest-permission', {
      statementId: 'AllowImagesBucketNotification',
      action: 'lambda:InvokeFunction',
      functionName: props.ingestFunction.functionName,
      principal: 's3.amazonaws.com',
      sourceArn: this.bucket.arn,
      sourceAccount: props.account,
    });
    new S3BucketNotification(this, 'ingest-notification', {
      bucket: this.bucket.id,
      lambdaFunction: [
        {
          lambdaFunctionArn: props.ingestFunction.arn,
          events: ['s3:ObjectCreated:*'],
          filterPrefix: imagesPrefix,
        },
      ],
      // S3 test-invokes the function when the notification is saved: the permission must be there first.
      dependsOn: [permission],
    });
  }
}
