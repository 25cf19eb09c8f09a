#!/usr/bin/env bash
# The release running now must keep working on the schema the new one migrates to: during a
# rolling deploy both serve side by side, and a rollback runs the old code on the new
# schema (docs/operations.md, Migrations). This runs the HTTP tests of the code as it was
# just before the last commit that changed migrations/ (the release still running when that
# change deploys) on a database migrated by every file in migrations/ here, on PGlite and,
# with TEST_POSTGRES_URL and TEST_REDIS_URL set, on PostgreSQL and Redis too.
#
#   scripts/schema-compat.sh              # from a full clone (the history is needed)
#
# Needs git, node and npm; installs the old code's own dependencies in a temporary worktree.
set -euo pipefail
cd "$(dirname "$0")/.."

last_change=$(git log -1 --format=%H -- migrations/)
if [[ -z $last_change ]]; then
  echo "schema-compat: no migrations in the history; nothing to check"
  exit 0
fi
if ! previous=$(git rev-parse --verify --quiet "$last_change^"); then
  echo "schema-compat: migrations/ came with the first commit; no older release to check"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/shipshape-schema-compat.XXXXXX")
cleanup() {
  git worktree remove --force "$work/previous" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "schema-compat: the HTTP tests of $(git log -1 --format='%h (%s)' "$previous" | cut -c1-100)"
echo "schema-compat: on the migrations of $(git rev-parse --short HEAD)"
git worktree add --quiet --detach "$work/previous" "$previous"
# The old code applies whatever is in its migrations/ at start-up: give it the new files.
rm -rf "$work/previous/migrations"
cp -R migrations "$work/previous/migrations"

cd "$work/previous"
# The root and the web UI: vitest loads every project's configuration, the web UI's included.
npm ci --workspace=web --include-workspace-root --no-audit --no-fund --loglevel=error
npx vitest run --project api test/http
