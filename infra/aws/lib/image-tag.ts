/**
 * The image tag deployed is the git commit it was built from: immutable in ECR, traceable
 * in /status, and the same digest promoted from staging to production. Never `latest`.
 */
export function imageTagFromContext(value: unknown): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{40}$/.test(value))
    throw new Error(
      `imageTag must be the full 40-character git SHA of the image to deploy ` +
        `(cdk synth -c imageTag=$(git rev-parse HEAD)); got ${JSON.stringify(value ?? null)}`,
    );
  return value;
}
