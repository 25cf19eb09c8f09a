#!/usr/bin/env bash
# Proves, from outside, that a deployed shipshape serves the release it should:
#   - /readyz answers 200: the database answers and the task is not draining;
#   - /status reports the expected git revision, so the new tasks are the ones answering;
#   - GET /items answers 200 with a JSON array;
#   - /metrics is not served: on AWS the edge answers 404 for it (only the VPC scrapes it);
#   - / serves the web UI.
#
#   scripts/smoke-test.sh https://staging.example.com "$(git rev-parse HEAD)"
#   SMOKE_EXPECT_METRICS_HIDDEN=false scripts/smoke-test.sh http://127.0.0.1:3000 "$SHA"
#
# A bare service (npm start, a container) serves /metrics itself: there, set
# SMOKE_EXPECT_METRICS_HIDDEN=false and the check becomes "/metrics answers Prometheus text".
#
# Right after a deploy, a draining task of the old release may still answer, so each check
# is tried up to SMOKE_ATTEMPTS times (default 20), SMOKE_INTERVAL_S seconds apart
# (default 3), and each request gives up after SMOKE_TIMEOUT_S seconds (default 10). A
# check that never passes ends the run with one FAIL line on stderr and exit code 1; bad
# arguments exit 2. Needs bash, curl and grep.
set -euo pipefail

fail_usage() {
  echo "FAIL: $*" >&2
  echo "usage: $0 <base-url> <expected-git-sha>" >&2
  exit 2
}

[[ $# -eq 2 ]] || fail_usage "expected 2 arguments, got $#"
base_url=${1%/}
expected_sha=$2
[[ $base_url =~ ^https?://[^[:space:]]+$ ]] || fail_usage "'$1' is not an http(s) URL"
[[ $expected_sha =~ ^[0-9a-f]{40}$ ]] || fail_usage "'$expected_sha' is not a full 40-character git SHA"

attempts=${SMOKE_ATTEMPTS:-20}
interval_s=${SMOKE_INTERVAL_S:-3}
timeout_s=${SMOKE_TIMEOUT_S:-10}
metrics_hidden=${SMOKE_EXPECT_METRICS_HIDDEN:-true}
[[ $attempts =~ ^[1-9][0-9]*$ ]] || fail_usage "SMOKE_ATTEMPTS must be a positive integer"
[[ $interval_s =~ ^[0-9]+$ ]] || fail_usage "SMOKE_INTERVAL_S must be a whole number of seconds"
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || fail_usage "SMOKE_TIMEOUT_S must be a positive integer"
[[ $metrics_hidden == true || $metrics_hidden == false ]] ||
  fail_usage "SMOKE_EXPECT_METRICS_HIDDEN must be true or false"

work=$(mktemp -d "${TMPDIR:-/tmp}/shipshape-smoke-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
body=$work/body

# One GET: sets `status` (000 when nothing answered) and `content_type`, the body in $body.
status=000
content_type=
get() { # path
  local written
  : >"$body"
  written=$(curl --silent --max-time "$timeout_s" --connect-timeout "$timeout_s" \
    --output "$body" --write-out '%{http_code} %{content_type}' "$base_url$1") || true
  status=${written%% *}
  content_type=${written#* }
  [[ -n $status ]] || status=000
}

# Each check returns non-zero with the reason in `reason`.
reason=
answered() { # path, status expected
  [[ $status == "$2" ]] && return 0
  if [[ $status == 000 ]]; then reason="no answer from $base_url$1"; else reason="$1 answered $status"; fi
  return 1
}

check_ready() {
  get /readyz
  answered /readyz 200
}

check_revision() {
  get /status
  answered /status 200 || return 1
  grep -qF "\"revision\":\"$expected_sha\"" "$body" && return 0
  local found
  found=$(grep -oE '"revision":"[^"]*"' "$body" || true)
  reason="/status reports ${found:-no revision}, not \"revision\":\"$expected_sha\""
  return 1
}

check_items() {
  get /items
  answered /items 200 || return 1
  if [[ $content_type != application/json* ]]; then
    reason="/items answered ${content_type:-no content type}, not application/json"
    return 1
  fi
  grep -qE '^[[:space:]]*\[' "$body" && return 0
  reason="/items did not answer a JSON array"
  return 1
}

check_metrics() {
  get /metrics
  if [[ $metrics_hidden == true ]]; then
    [[ $status == 404 || $status == 403 ]] && return 0
    reason="/metrics answered $status from outside; the edge must refuse it (404)"
    return 1
  fi
  answered /metrics 200 || return 1
  grep -qE '^# (HELP|TYPE) ' "$body" && return 0
  reason="/metrics answered 200 without Prometheus text"
  return 1
}

check_ui() {
  get /
  answered / 200 || return 1
  grep -qF 'id="root"' "$body" && return 0
  reason="/ answered 200 without the web UI (no id=\"root\")"
  return 1
}

run() { # description, check
  local attempt
  for ((attempt = 1; attempt <= attempts; attempt++)); do
    if "$2"; then
      echo "ok   $1"
      return 0
    fi
    ((attempt == attempts)) || sleep "$interval_s"
  done
  echo "FAIL: $1: $reason (tried $attempts times)" >&2
  exit 1
}

echo "smoke test of $base_url, expecting revision $expected_sha"
run "/readyz answers 200" check_ready
run "/status reports revision $expected_sha" check_revision
run "GET /items answers 200 with a JSON array" check_items
if [[ $metrics_hidden == true ]]; then
  run "/metrics is not served from outside" check_metrics
else
  run "/metrics answers Prometheus text (SMOKE_EXPECT_METRICS_HIDDEN=false)" check_metrics
fi
run "/ serves the web UI" check_ui
echo "PASS"
