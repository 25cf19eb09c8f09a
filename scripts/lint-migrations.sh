#!/usr/bin/env bash
# Lints the migrations with Squawk (.squawk.toml says which rules and why), all but the ones
# that came before it: an applied file can never change (the runner checks its checksum), so
# those keep the warnings they were written with.
#
#   scripts/lint-migrations.sh                  # npm run lint runs it
#   scripts/lint-migrations.sh /abs/path/*.sql  # other files, with the same rules
set -euo pipefail
cd "$(dirname "$0")/.."

readonly LINTED_FROM=3 # the first migration written with the linter in place

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
npx squawk --config .squawk.toml "${files[@]}"
