#!/usr/bin/env bash
# Writes a pg_dump of one database in the custom format (compressed, read by pg_restore:
# scripts/db-restore.sh) to DIR/<database>-<UTC time>.dump, and prints the file's path.
# The dump is one snapshot, consistent while the app keeps writing. The file takes its name
# only once the dump is complete: a failed or interrupted run leaves nothing that looks
# like a backup.
#
#   scripts/db-backup.sh postgres://user:password@host:5432/shipshape backups
#   PG_EXEC='docker compose exec -T --user postgres postgres' \
#     scripts/db-backup.sh 'postgresql:///shipshape?user=shipshape' backups    (make backup)
#
# pg_dump refuses a server newer than itself, so it is best run where the server is:
# PG_EXEC, if set, is a command prefix that runs psql and pg_dump there (make backup: in the
# compose stack's postgres container). The dump streams out on stdout, so the file is
# written here.
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 DATABASE_URL DIR" >&2
  exit 2
fi
url=$1
dir=$2
read -ra pg_exec <<<"${PG_EXEC:-}"

mkdir -p "$dir"
database=$(${pg_exec[@]+"${pg_exec[@]}"} psql --no-psqlrc --tuples-only --no-align \
  --dbname="$url" --command='SELECT current_database()')
file="$dir/$database-$(date -u +%Y%m%dT%H%M%SZ).dump"
if [[ -e $file ]]; then
  echo "FAIL: $file exists already" >&2
  exit 1
fi

partial="$file.partial"
trap 'rm -f "$partial"' EXIT
${pg_exec[@]+"${pg_exec[@]}"} pg_dump --format=custom --dbname="$url" >"$partial"
mv "$partial" "$file"
echo "$file"
