import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { pipeline } from '../config/pipeline';
import { production } from '../config/production';
import { staging } from '../config/staging';
import { imageDigestFromContext, imageTagFromContext } from '../lib/image-tag';
import { createShipshape } from '../lib/shipshape';

const app = new App();
createShipshape(app, {
  pipeline,
  environments: [staging, production],
  imageTag: imageTagFromContext(app.node.tryGetContext('imageTag')),
  imageDigest: imageDigestFromContext(app.node.tryGetContext('imageDigest')),
  account: process.env.CDK_DEFAULT_ACCOUNT,
});
// Synth fails on any unsuppressed AwsSolutions finding, as the tests do.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
