#!/usr/bin/env bash
# Fails unless an image digest is one this repository's release workflow built and signed, so
# a deploy (or a rollback) never runs bytes that did not come out of release.yml.
#
#   scripts/verify-image.sh <image-repository> <git-sha> <digest> <owner/repo>
#   scripts/verify-image.sh "$ECR_REPOSITORY_URI" "$SHA" sha256:… shipshape-dev/shipshape
#
# 1. The signature: cosign checks the keyless certificate (issued by Fulcio to GitHub's OIDC
#    token for release.yml of this repository on main or a version tag, at this commit) and
#    its entry in the Rekor transparency log.
# 2. The provenance: BuildKit's SLSA provenance sits in the signed image index, which lists
#    each attestation manifest by digest, so the signature covers it; it must record the build
#    of this commit (the GIT_REVISION build argument, and git's revision where it has one).
#    release.yml makes no cosign or GitHub attestations, so there is none to verify apart.
#
# Needs cosign, docker buildx and jq, and a `docker login` to the registry. Prints nothing on
# stdout; the reasons go to stderr.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

[[ $# -eq 4 ]] || fail "usage: $0 <image-repository> <git-sha> <digest> <owner/repo>"
image=$1
sha=$2
digest=$3
repository=$4

[[ $image =~ ^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+$ ]] ||
  fail "'$image' is not an image repository (<registry>/<name>, without a tag)"
[[ $sha =~ ^[0-9a-f]{40}$ ]] || fail "'$sha' is not a full 40-character git SHA"
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || fail "'$digest' is not an image digest (sha256:<64 hex>)"
[[ $repository =~ ^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$ ]] ||
  fail "'$repository' is not a GitHub repository (<owner>/<name>)"

ref="$image@$digest"
# The certificate's identity is the workflow file at the ref it ran for; release.yml runs for
# main and for `v*` tags, so nothing else (a branch, a pull request, another workflow) passes.
identity="^https://github\\.com/${repository//./\\.}/\\.github/workflows/release\\.yml@refs/(heads/main|tags/v[^/]*)\$"
cosign verify \
  --certificate-oidc-issuer https://token.actions.githubusercontent.com \
  --certificate-identity-regexp "$identity" \
  --certificate-github-workflow-repository "$repository" \
  --certificate-github-workflow-sha "$sha" \
  "$ref" >/dev/null ||
  fail "$ref has no valid signature by $repository's release workflow at $sha"
echo "$ref: signed by $repository's release workflow at $sha" >&2

provenance=$(docker buildx imagetools inspect "$ref" --format '{{json .Provenance}}') ||
  fail "could not read the provenance of $ref"
# One provenance per platform, SLSA v0.2 or v1: look for the fields wherever they sit.
revisions=$(jq -r '
  [.. | objects | (.args? // {})["build-arg:GIT_REVISION"]? | strings] as $arg
  | [.. | objects | .["https://mobyproject.org/buildkit@v1#metadata"]? | objects
     | .vcs.revision? | strings] as $vcs
  | if ($arg | length) == 0 then "none" else ($arg + $vcs | unique | join(" ")) end
' <<<"$provenance") || fail "the provenance of $ref is not JSON"
[[ $revisions == "$sha" ]] ||
  fail "the provenance of $ref records the build of '$revisions', not of $sha"
echo "$ref: provenance records the build of $sha" >&2
