#!/usr/bin/env bash
# The release running now must keep working on the schema the new one migrates to: during a
# rolling deploy both serve side by side, and a rollback runs the old code on the new
# schema (docs/operations.md, Migrations). This runs the HTTP tests of the previous release
# on a database migrated by every file in migrations/ here, on PGlite and, with
# TEST_POSTGRES_URL and TEST_REDIS_URL set, on PostgreSQL and Redis too.
#
# Which commit is the previous release:
# - SCHEMA_COMPAT_BASE set (CI on a pull request: origin/<target branch>): where this branch
#   left it, `git merge-base HEAD $SCHEMA_COMPAT_BASE`, which is what runs while the branch is
#   reviewed, however many commits of the branch change migrations/. If none does, the
#   schema is the one that release already runs on, and there is nothing to check.
# - otherwise (a push to main, a local run): the commit before the last one that changed
#   migrations/, along first parents, so that after a merge it is main before the merge,
#   not a commit of the merged branch. A local branch with two migration commits is thus
#   checked against its own first one: set SCHEMA_COMPAT_BASE=origin/main to check it as
#   CI will.
#
#   scripts/schema-compat.sh                   # from a full clone (the history is needed)
#   scripts/schema-compat.sh --print-previous  # only print the commit it would test
#   SCHEMA_COMPAT_TESTS='test/http/items.test.ts' scripts/schema-compat.sh
#
# SCHEMA_COMPAT_TESTS: the old code's test files or folders to run (default: test/http).
# Needs git, node and npm. The old code gets its own dependencies in a temporary worktree:
# `npm ci`, or, when its package-lock.json is this checkout's and node_modules is installed
# here (.ci/run installs it first), a link to that node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

print_previous=false
case "${1:-}" in
  --print-previous) print_previous=true ;;
  '') ;;
  *)
    echo "usage: $0 [--print-previous]" >&2
    exit 2
    ;;
esac

# A shallow clone hides the commits this looks for, and would pass having checked nothing.
if [[ $(git rev-parse --is-shallow-repository) == true ]]; then
  echo "FAIL: schema-compat: this is a shallow clone; it needs the whole history to find the" >&2
  echo "previous release. Run 'git fetch --unshallow' (in GitHub Actions: fetch-depth: 0)." >&2
  exit 1
fi

if [[ -n ${SCHEMA_COMPAT_BASE:-} ]]; then
  if ! previous=$(git merge-base HEAD "$SCHEMA_COMPAT_BASE" 2>/dev/null); then
    echo "FAIL: schema-compat: no common history with SCHEMA_COMPAT_BASE='$SCHEMA_COMPAT_BASE'" >&2
    exit 1
  fi
  if git diff --quiet "$previous" HEAD -- migrations/; then
    echo "schema-compat: no change to migrations/ since $SCHEMA_COMPAT_BASE ($(git rev-parse --short "$previous")); nothing to check"
    exit 0
  fi
else
  last_change=$(git log -1 --first-parent --format=%H -- migrations/)
  if [[ -z $last_change ]]; then
    echo "schema-compat: no migrations in the history; nothing to check"
    exit 0
  fi
  if ! previous=$(git rev-parse --verify --quiet "$last_change^"); then
    echo "schema-compat: migrations/ came with the first commit; no older release to check"
    exit 0
  fi
fi
if $print_previous; then
  echo "$previous"
  exit 0
fi
read -ra tests <<<"${SCHEMA_COMPAT_TESTS:-test/http}"

work=$(mktemp -d "${TMPDIR:-/tmp}/shipshape-schema-compat.XXXXXX")
cleanup() {
  cd "$repo"
  # The links, not what they point to.
  for link in "$work/previous/node_modules" "$work/previous/web/node_modules"; do
    [[ ! -L $link ]] || rm "$link"
  done
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

if [[ -f node_modules/.package-lock.json ]] && git diff --quiet "$previous" -- package-lock.json; then
  echo "schema-compat: the same package-lock.json; linking the node_modules installed here"
  ln -s "$repo/node_modules" "$work/previous/node_modules"
  if [[ -d web/node_modules && -d $work/previous/web ]]; then
    ln -s "$repo/web/node_modules" "$work/previous/web/node_modules"
  fi
  cd "$work/previous"
else
  cd "$work/previous"
  # The root and the web UI: vitest loads every project's configuration, the web UI's included.
  npm ci --workspace=web --include-workspace-root --no-audit --no-fund --loglevel=error
fi
npx vitest run --project api "${tests[@]}"
