#!/usr/bin/env bash
# Points a Kubernetes overlay at one image, by digest: the `shipshape` entry of its
# kustomization's `images:` gets the release's git SHA as its tag (for people) and its
# digest (what runs). release.yml runs it for staging once the image is verified, and
# commits the change, which Argo CD rolls out; production is promoted the same way by hand.
#
#   scripts/promote-k8s.sh <overlay-dir> <git-sha> <digest>
#   scripts/promote-k8s.sh deploy/k8s/overlays/staging "$SHA" "$DIGEST"
#
# Without kustomize's own binary (kubectl has only its build): the entry's two lines are
# rewritten in place, and the file must hold exactly one of each, so nothing else changes.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

[[ $# -eq 3 ]] || fail "usage: $0 <overlay-dir> <git-sha> <digest>"
file=$1/kustomization.yaml
sha=$2
digest=$3

[[ -f $file ]] || fail "$file does not exist"
[[ $sha =~ ^[0-9a-f]{40}$ ]] || fail "'$sha' is not a full 40-character git SHA"
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || fail "'$digest' is not an image digest (sha256:<64 hex>)"

for field in newTag digest; do
  count=$(grep -c "^    $field: " "$file" || true)
  [[ $count -eq 1 ]] || fail "$file has $count '$field:' lines under images, not one"
done
grep -q '^  - name: shipshape$' "$file" || fail "$file has no image named shipshape"

sed -i -e "s|^    newTag: .*|    newTag: $sha|" -e "s|^    digest: .*|    digest: $digest|" "$file"
echo "$file: shipshape at $sha ($digest)" >&2
