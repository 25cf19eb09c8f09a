#!/usr/bin/env bash
# Fails, naming each one, when any of the given environment variables is unset or empty.
# The workflows run it first, so a repository variable nobody set stops the run with its
# name rather than with a confusing error three steps later.
#
#   scripts/require-env.sh AWS_REGION ECR_REPOSITORY_URI
set -euo pipefail

missing=()
for name in "$@"; do
  [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || {
    echo "FAIL: '$name' is not a variable name" >&2
    exit 2
  }
  [[ -n ${!name:-} ]] || missing+=("$name")
done
if ((${#missing[@]} > 0)); then
  echo "FAIL: not set: ${missing[*]} (docs/operations.md, \"Release and deploy pipeline\")" >&2
  exit 1
fi
