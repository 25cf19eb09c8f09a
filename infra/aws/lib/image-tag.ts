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

/**
 * The image's digest, as the release built and signed it (the deploy workflow verifies the
 * signature first): the tasks run exactly these bytes, whatever a tag says. Optional for
 * `cdk synth` and the tests; the deploy scripts require it.
 */
export function imageDigestFromContext(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(value))
    throw new Error(
      `imageDigest must be the image's digest, sha256:<64 hex digits> ` +
        `(cdk deploy -c imageDigest=sha256:…); got ${JSON.stringify(value)}`,
    );
  return value;
}
