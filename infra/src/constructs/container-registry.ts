import { EcrLifecyclePolicy } from '@cdktf/provider-aws/lib/ecr-lifecycle-policy';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { Construct } from 'constructs';
import { imageNames, type ImageName, type ResourceNames } from '../names';

export interface ContainerRegistryProps {
  names: ResourceNames;
  keepImages: number;
}

/** One ECR repository per image: scanned on push, immutable tags, old images expired. */
export class ContainerRegistry extends Construct {
  readonly repositories: Record<ImageName, EcrRepository>;

  constructor(scope: Construct, id: string, props: ContainerRegistryProps) {
    super(scope, id);
    const entries = imageNames.map((image) => {
      const repository = new EcrRepository(this, image, {
        name: props.names.repository(image),
        imageTagMutability: 'IMMUTABLE',
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: [{ encryptionType: 'KMS' }],
      });
      new EcrLifecyclePolicy(this, `${image}-lifecycle`, {
        repository: repository.name,
        policy: JSON.stringify({
          rules: [
            {
              rulePriority: 1,
              description: 'Untagged layers of interrupted pushes',
              selection: {
                tagStatus: 'untagged',
                countType: 'sinceImagePushed',
                countUnit: 'days',
                countNumber: 1,
              },
              action: { type: 'expire' },
            },
            {
              rulePriority: 2,
              description: `Keep the newest ${props.keepImages} images`,
              selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: props.keepImages },
              action: { type: 'expire' },
            },
          ],
        }),
      });
      return [image, repository] as const;
    });
    this.repositories = Object.fromEntries(entries) as Record<ImageName, EcrRepository>;
  }

  /** The image URI of a tag. */
  imageUri(image: ImageName, tag: string): string {
    return `${this.repositories[image].repositoryUrl}:${tag}`;
  }
}
