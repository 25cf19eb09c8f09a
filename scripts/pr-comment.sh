#!/usr/bin/env bash
# Posts a command's output on a pull request as one comment, and updates that comment on
# the next run instead of adding another, so a pull request carries one current cdk diff.
#
#   scripts/pr-comment.sh <pull-request-number> <title> <output-file>
#   GH_TOKEN=… GH_REPO=owner/name scripts/pr-comment.sh 42 "cdk diff: staging" reports/cdk-diff.txt
#
# Needs the GitHub CLI (gh) with a token allowed to write pull requests. "Last comment" is
# gh's: the newest comment of the token's user on that pull request, so this must be the
# only thing that comments as that user (in CI, github-actions[bot]).
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

[[ $# -eq 3 ]] || fail "usage: $0 <pull-request-number> <title> <output-file>"
pr=$1
title=$2
output=$3
[[ $pr =~ ^[1-9][0-9]*$ ]] || fail "'$pr' is not a pull request number"
[[ -f $output ]] || fail "no output file $output"

# GitHub refuses comments over 65,536 characters; leave room for the title and fences.
readonly MAX_OUTPUT_CHARS=60000

work=$(mktemp -d "${TMPDIR:-/tmp}/shipshape-pr-comment.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Colour codes (the CDK colours its output on GitHub Actions) would show up as noise.
sed -E 's/\x1b\[[0-9;]*[A-Za-z]//g' "$output" >"$work/plain"
chars=$(LC_ALL=C.UTF-8 wc -m <"$work/plain")
{
  echo "### $title"
  echo
  echo '```'
  if ((chars > MAX_OUTPUT_CHARS)); then
    LC_ALL=C.UTF-8 head -c "$MAX_OUTPUT_CHARS" "$work/plain"
    echo
    echo "… cut at $MAX_OUTPUT_CHARS of $chars characters; the job's log has all of it."
  else
    cat "$work/plain"
  fi
  echo '```'
} >"$work/comment.md"

gh pr comment "$pr" --edit-last --create-if-none --body-file "$work/comment.md"
