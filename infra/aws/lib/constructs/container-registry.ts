import { Duration, RemovalPolicy } from 'aws-cdk-lib';
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
      lifecycleRules: [
        {
          rulePriority: 1,
          description: 'layers left by interrupted or multi-arch pushes',
          tagStatus: ecr.TagStatus.UNTAGGED,
          maxImageAge: Duration.days(7),
        },
        {
          rulePriority: 2,
          description: 'the newest 200 builds: months of rollback targets',
          tagStatus: ecr.TagStatus.ANY,
          maxImageCount: 200,
        },
      ],
    });
  }
}
