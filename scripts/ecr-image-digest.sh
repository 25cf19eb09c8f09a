#!/usr/bin/env bash
# Prints the digest ECR holds for an image tag. Given the digest the release built, it
# fails unless ECR holds exactly that, so an environment never gets other bytes than the
# ones that were built, signed and (for production) tested in staging.
#
#   scripts/ecr-image-digest.sh <repository-uri> <git-sha> [<expected-digest>]
#   scripts/ecr-image-digest.sh 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shipshape "$SHA"
#
# Needs the AWS CLI and credentials allowed ecr:DescribeImages on the repository; the deploy
# workflow uses CDK's read-only lookup role. The region is the repository's own, read from
# its URI. The digest goes to stdout, everything else to stderr.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

[[ $# -eq 2 || $# -eq 3 ]] ||
  fail "usage: $0 <repository-uri> <git-sha> [<expected-digest>]"
uri=$1
tag=$2
expected=${3:-}

[[ $uri =~ ^[0-9]{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/([a-z0-9._/-]+)$ ]] ||
  fail "'$uri' is not an ECR repository URI (<account>.dkr.ecr.<region>.amazonaws.com/<name>)"
region=${BASH_REMATCH[1]}
repository=${BASH_REMATCH[3]}
# Tags are commits, and the repository's tags are immutable: one SHA, one build, forever.
[[ $tag =~ ^[0-9a-f]{40}$ ]] || fail "'$tag' is not a full 40-character git SHA"
[[ -z $expected || $expected =~ ^sha256:[0-9a-f]{64}$ ]] ||
  fail "'$expected' is not an image digest (sha256:<64 hex>)"

digest=$(aws ecr describe-images --region "$region" --repository-name "$repository" \
  --image-ids "imageTag=$tag" --query 'imageDetails[0].imageDigest' --output text) ||
  fail "could not read $uri:$tag from ECR (no such image, or no access to it)"
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || fail "ECR has no image $uri:$tag"
[[ -z $expected || $digest == "$expected" ]] ||
  fail "$uri:$tag is $digest in ECR, not $expected, the digest the release built"

echo "$uri:$tag is $digest" >&2
echo "$digest"
