import { RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';

/**
 * The one image repository every environment pulls from: an image is built once, tagged
 * with its commit, and the same digest is promoted from staging to production.
 */
export class ContainerRegistry extends Construct {
  readonly repository: ecr.Repository;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.repository = new ecr.Repository(this, 'Repository', {
      // A tag names one build forever, so "deploy abc123" always means the same bytes.
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      imageScanOnPush: true,
      encryption: ecr.RepositoryEncryption.AES_256,
      // Deleting the stack must not delete the images production runs on.
      removalPolicy: RemovalPolicy.RETAIN,
      // Only tagged images are counted and expired. A multi-arch image's per-platform
      // manifests, its SBOM and provenance, and its cosign signature are untagged and live as
      // long as the tagged index they belong to; an "untagged" rule would delete them.
      lifecycleRules: [
        {
          rulePriority: 1,
          description: 'the newest 200 builds: months of rollback targets',
          tagStatus: ecr.TagStatus.TAGGED,
          tagPatternList: ['*'],
          maxImageCount: 200,
        },
      ],
    });
  }
}
