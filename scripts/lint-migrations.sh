#!/usr/bin/env bash
# Lints the migrations with Squawk (.squawk.toml says which rules and why), all but the ones
# that came before it: an applied file can never change (the runner checks its checksum), so
# those keep the warnings they were written with.
#
#   scripts/lint-migrations.sh                  # npm run lint runs it
#   scripts/lint-migrations.sh /abs/path/*.sql  # other files, with the same rules
#
# Needs npm and the npm registry (or its cache) the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly LINTED_FROM=3 # the first migration written with the linter in place
readonly SQUAWK_VERSION=2.66.0

files=("$@")
if ((${#files[@]} == 0)); then
  for file in migrations/[0-9]*.sql; do
    number=$(basename "$file" | cut -d_ -f1)
    ((10#$number >= LINTED_FROM)) && files+=("$file")
  done
fi
if ((${#files[@]} == 0)); then
  echo "lint-migrations: no migration from $(printf '%03d' "$LINTED_FROM") on yet"
  exit 0
fi
# squawk-cli ships its binary as one optional package per platform; fetched here at a fixed
# version, it is not a dependency whose lockfile entries would have to list every platform's.
npm exec --yes --package="squawk-cli@$SQUAWK_VERSION" -- squawk --config .squawk.toml "${files[@]}"
