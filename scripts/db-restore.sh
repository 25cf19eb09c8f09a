#!/usr/bin/env bash
# Restores a scripts/db-backup.sh file as the database DATABASE_URL names, all or nothing:
#   1. the file is read through once (pg_restore --list): not an archive, nothing touched;
#   2. it is restored into a new, empty database, <name>_restoring, in one transaction that
#      stops at the first error;
#   3. only then are the names swapped, in one transaction: the current database becomes
#      <name>_before_<UTC time> (kept, to compare or go back; drop it when done) and the
#      restored one takes its name.
# Restoring into a fresh database rather than over the current one (pg_restore --clean)
# leaves nothing behind that the backup did not have: --clean drops only the objects in
# the dump, so tables and rows a later migration added would survive alongside it.
#
# The swap fails while anything is connected to the database: stop the app first (make
# restore does). Objects belong to the role that restores (--no-owner): run it as the role
# the app connects as. The server also needs a `postgres` database, to connect to while
# renaming the others.
#
#   scripts/db-restore.sh postgres://user:password@host:5432/shipshape backups/<name>.dump
#   PG_EXEC='docker compose exec -T --user postgres postgres' \
#     scripts/db-restore.sh 'postgresql:///shipshape?user=shipshape' FILE   (make restore)
#
# PG_EXEC, if set, is a command prefix that runs psql and pg_restore where the server is
# (see scripts/db-backup.sh); the file streams to them on stdin.
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 DATABASE_URL FILE" >&2
  exit 2
fi
url=$1
file=$2
read -ra pg_exec <<<"${PG_EXEC:-}"

run() { ${pg_exec[@]+"${pg_exec[@]}"} "$@"; }
# The same server and credentials as DATABASE_URL, another database: libpq takes the last
# dbname it is given, so a query parameter overrides the URL's path.
url_of() { if [[ $url == *\?* ]]; then echo "$url&dbname=$1"; else echo "$url?dbname=$1"; fi; }
sql() { run psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --dbname="$(url_of "$1")" "${@:2}"; }

[[ -f $file && -r $file ]] || {
  echo "FAIL: no backup file '$file'" >&2
  exit 2
}
run pg_restore --list <"$file" >/dev/null

database=$(run psql --no-psqlrc --tuples-only --no-align --dbname="$url" \
  --command='SELECT current_database()')
restoring="${database}_restoring"
previous="${database}_before_$(date -u +%Y%m%d%H%M%S)"
# Names go into a URL unescaped, and PostgreSQL cuts names longer than 63 bytes.
if [[ ! $database =~ ^[A-Za-z0-9_]+$ || ${#previous} -gt 63 ]]; then
  echo "FAIL: database name '$database' is not [A-Za-z0-9_], or too long to rename" >&2
  exit 2
fi

sql postgres --set=name="$restoring" <<'SQL'
SET client_min_messages = warning;
DROP DATABASE IF EXISTS :"name";
CREATE DATABASE :"name" TEMPLATE template0;
SQL
swapped=false
# A restore that failed leaves the current database as it was, and no half-restored copy.
drop_unswapped() {
  $swapped && return
  sql postgres --set=name="$restoring" <<<'DROP DATABASE IF EXISTS :"name";' || true
  echo "FAIL: $database is unchanged" >&2
}
trap drop_unswapped EXIT

run pg_restore --single-transaction --exit-on-error --no-owner \
  --dbname="$(url_of "$restoring")" <"$file"

sql postgres --set=database="$database" --set=previous="$previous" --set=restored="$restoring" <<'SQL'
BEGIN;
ALTER DATABASE :"database" RENAME TO :"previous";
ALTER DATABASE :"restored" RENAME TO :"database";
COMMIT;
SQL
swapped=true
echo "restored $file as $database; the database it replaced is kept as $previous"
