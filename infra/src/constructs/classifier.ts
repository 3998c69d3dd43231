import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import type { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { SagemakerEndpoint } from '@cdktf/provider-aws/lib/sagemaker-endpoint';
import { SagemakerEndpointConfiguration } from '@cdktf/provider-aws/lib/sagemaker-endpoint-configuration';
import { SagemakerModel } from '@cdktf/provider-aws/lib/sagemaker-model';
import { createHash } from 'node:crypto';
import { classifierVariant } from '@mc-vision/core/names';
import { Construct } from 'constructs';
import { allow, ServiceRole } from '../iam';
import type { ResourceNames } from '../names';

export interface ClassifierProps {
  names: ResourceNames;
  /** The model server's repository and the tag to run. */
  repository: EcrRepository;
  imageTag: string;
  /** The models bucket and the key of the `model.tar.gz` SageMaker unpacks into /opt/ml/model. */
  modelsBucket: { name: string; arn: string };
  modelArtifactKey: string;
  memoryMb: number;
  maxConcurrency: number;
  logRetentionDays: number;
}

/** The endpoint's one variant, named in core: its CloudWatch metrics carry it as `VariantName`. */
export const variantName = classifierVariant;

/**
 * The image classifier on SageMaker Serverless: the model server image (it speaks the SageMaker container
 * contract) with the model package from S3, a serverless endpoint configuration and the endpoint. Models
 * and endpoint configurations are immutable in SageMaker, so a new image or artifact makes new ones
 * (created before the old are destroyed) and the endpoint switches over in place.
 */
export class Classifier extends Construct {
  readonly endpoint: SagemakerEndpoint;

  constructor(scope: Construct, id: string, props: ClassifierProps) {
    super(scope, id);
    const { names } = props;
    const endpointName = names.sagemakerEndpoint;
    const artifactArn = `${props.modelsBucket.arn}/${props.modelArtifactKey}`;
    // SageMaker writes here; creating it ourselves sets the retention.
    const logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: names.classifierLogGroup,
      retentionInDays: props.logRetentionDays,
    });
    const role = new ServiceRole(this, 'role', {
      name: names.role('classifier'),
      service: 'sagemaker.amazonaws.com',
      sourceAccount: names.account,
      permissionsBoundary: names.workloadBoundaryArn,
      statements: [
        allow('s3:GetObject', artifactArn, 'ReadModelArtifact'),
        allow(
          ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
          props.repository.arn,
          'PullModelServerImage',
        ),
        // Registry login has no resource-level permission.
        allow('ecr:GetAuthorizationToken', '*', 'LogInToRegistry'),
        allow(
          ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
          [logGroup.arn, `${logGroup.arn}:*`],
          'WriteOwnLogs',
        ),
      ],
    });
    const image = `${props.repository.repositoryUrl}:${props.imageTag}`;
    const modelDataUrl = `s3://${props.modelsBucket.name}/${props.modelArtifactKey}`;
    const revision = createHash('sha256')
      .update(`${props.imageTag}\n${props.modelArtifactKey}`)
      .digest('hex')
      .slice(0, 8);
    const model = new SagemakerModel(this, 'model', {
      name: `${endpointName}-${revision}`,
      executionRoleArn: role.arn,
      // No network isolation: Serverless Inference does not support it (nor a VPC).
      primaryContainer: { image, modelDataUrl },
      lifecycle: { createBeforeDestroy: true },
      dependsOn: [role.policy],
    });
    const endpointConfig = new SagemakerEndpointConfiguration(this, 'endpoint-config', {
      namePrefix: `${endpointName}-`,
      productionVariants: [
        {
          variantName,
          modelName: model.name,
          serverlessConfig: { memorySizeInMb: props.memoryMb, maxConcurrency: props.maxConcurrency },
        },
      ],
      lifecycle: { createBeforeDestroy: true },
    });
    this.endpoint = new SagemakerEndpoint(this, 'endpoint', {
      name: endpointName,
      endpointConfigName: endpointConfig.name,
      dependsOn: [logGroup],
    });
  }
}
