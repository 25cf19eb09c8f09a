#!/usr/bin/env bash
# Builds the Dockerfile and proves the image does what it promises:
#   - the build context holds nothing a clean checkout lacks (no dist/, web/dist/,
#     node_modules), so the image is built from source by the Dockerfile alone;
#   - `node dist/migrate.js` applies the migrations as a one-shot job;
#   - the service becomes healthy (HEALTHCHECK) and ready on a read-only root filesystem,
#     serves /status with the revision it was built from, the web UI and its assets;
#   - it runs as uid 1000 (a numeric USER), can write only to /app/data and /tmp, and
#     has no npm, npx, corepack or yarn;
#   - its node_modules holds only the bundle's externals and their dependencies: the
#     number of packages, their size and the app's layers stay within
#     scripts/image-budget.json;
#   - `podman stop` ends it with a drain and exit code 0, well before the kill.
#
#   scripts/container-smoke.sh            # as root; about 1.5 min cold, 1 min warm
#   BASE_IMAGE=node:24-bookworm-slim@sha256:... scripts/container-smoke.sh
#
# Needs root, Debian's podman with runc, debootstrap, curl, git and node on the host
# (`apt-get install podman runc debootstrap`); no Docker engine, no registry.
#
# The base image: this machine reaches no container registry, so by default
# scripts/base-image-standin.sh builds a stand-in for the official node:24-bookworm-slim
# from Debian's mirror and the npm registry, once, and caches it under
# ${XDG_CACHE_HOME:-~/.cache}/shipshape/. A machine that reaches a registry sets
# BASE_IMAGE to the image on the Dockerfile's `AS node-lts` line (or any Node base) and
# the script pulls that instead. With a Docker engine, plain `docker build .` uses the
# real base; no stand-in, no build argument.
# Proxy variables, if set, reach the build's RUN steps (podman's --http-proxy default).
#
# Podman runs with its own settings (runtime, storage, events, networks, registries)
# from a temporary folder, through CONTAINERS_CONF, CONTAINERS_STORAGE_CONF and
# CONTAINERS_REGISTRIES_CONF; the machine's configuration is left as it is. On exit,
# even on failure, everything the script made is removed but the cached stand-in.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly STANDIN_IMAGE=localhost/node:24-bookworm-slim
readonly IMAGE=localhost/shipshape:smoke
readonly NAME=shipshape-smoke-$$
readonly VOLUME=$NAME-data
# Short enough to keep the test quick, long enough that a stop which skipped it shows.
readonly DRAIN_MS=2000
readonly STOP_TIMEOUT_S=15
readonly HEALTHY_WITHIN_S=60

log() { printf '\n==> [%3ds] %s\n' "$SECONDS" "$*"; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
now_ms() { date +%s%3N; }
# Podman 4.3 also tries to schedule health checks with systemd, which is absent here, and
# logs that as an error on run and stop; this test runs the checks itself.
without_systemd_noise() { "$@" 2> >(grep -v 'unable to get systemd connection' >&2); }
# Polls a command once a second until it succeeds; false after the deadline.
poll() { # seconds, command...
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

for tool in podman runc curl git node; do
  command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install podman runc curl)"
done

# Podman 4.3 writes these whatever its configuration says (the image library's blob
# cache, the network backend's run folder); removed on exit only if this run made them.
system_paths=(/var/lib/containers/cache/blob-info-cache-v1.boltdb /var/lib/containers/cache
  /var/lib/containers /run/containers/networks /run/containers)
new_system_paths=()
for path in "${system_paths[@]}"; do
  [[ -e $path ]] || new_system_paths+=("$path")
done

work=$(mktemp -d "${TMPDIR:-/tmp}/shipshape-smoke.XXXXXX")

cleanup() {
  local status=$?
  # Podman only ever runs here with the configuration below, never the machine's.
  if [[ ${CONTAINERS_CONF:-} == "$work/containers.conf" && -f $CONTAINERS_CONF ]]; then
    if ((status != 0)) && podman container exists "$NAME"; then
      echo "--- container logs ($NAME) ---" >&2
      podman logs --tail 60 "$NAME" >&2 2>&1 || true
    fi
    podman rm --force --time 0 --ignore "$NAME" >/dev/null 2>&1 || true
    podman volume rm --force "$VOLUME" >/dev/null 2>&1 || true
    podman image unmount --all >/dev/null 2>&1 || true
  fi
  # Never delete through a mount that outlived its container; the work folder's own
  # tmpfs goes last.
  awk -v root="$work" '$2 == root || index($2, root "/") == 1 { print $2 }' /proc/mounts |
    sort -r | xargs -r -n 1 umount -l || true
  rm -rf "$work"
  local path
  for path in "${new_system_paths[@]}"; do
    if [[ -d $path ]]; then rmdir "$path"; elif [[ -e $path ]]; then rm -f "$path"; fi 2>/dev/null || true
  done
  if ((status == 0)); then log "PASS"; else log "FAILED"; fi
}
trap cleanup EXIT
# An interrupted run cleans up too.
trap 'exit 1' INT TERM HUP

# Image layers in memory when there is room: a build writes and hashes tens of thousands
# of small files, and this machine's disk slows down under that load (builds took twice
# as long or more there). The size is a cap; about 1.5 GB gets used.
available_kb=$(awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo)
if ((available_kb > 4 * 1024 * 1024)) && mount -t tmpfs -o size=6g,mode=0700 tmpfs "$work" 2>/dev/null; then
  storage_on="memory (tmpfs)"
else
  storage_on="disk"
fi

# runc, cgroupfs and a file event log: this machine has cgroups in hybrid mode and no
# systemd. Containers must get the hard nofile limit: root here cannot raise it.
hard_nofile=$(ulimit -Hn)
[[ $hard_nofile != unlimited ]] || hard_nofile=1048576
export CONTAINERS_CONF=$work/containers.conf
export CONTAINERS_STORAGE_CONF=$work/storage.conf
export CONTAINERS_REGISTRIES_CONF=$work/registries.conf
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR" "$work/net.d"
cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=$hard_nofile:$hard_nofile", "nproc=16384:16384"]
# User-mode networking: publishing a port needs no bridge, firewall rules or IPAM state.
netns = "slirp4netns"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$work/events.log"
tmp_dir = "$work/libpod"

[network]
network_config_dir = "$work/net.d"
EOF
# Short names mean Docker Hub, as they do for Docker and in the Dockerfile's default.
cat >"$CONTAINERS_REGISTRIES_CONF" <<EOF
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
EOF
cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "overlay"
graphroot = "$work/storage"
runroot = "$work/run"
EOF

echo "podman storage in $work, on $storage_on"

if [[ -n ${BASE_IMAGE:-} ]]; then
  base=$BASE_IMAGE
  log "Base image: $base (from BASE_IMAGE)"
  podman image exists "$base" || timeout 600 podman pull --quiet "$base" >/dev/null
else
  base=$STANDIN_IMAGE
  command -v debootstrap >/dev/null || fail "debootstrap is missing (apt-get install debootstrap)"
  log "Base image: stand-in $base"
  timeout 600 scripts/base-image-standin.sh "$base"
fi

log "Build context: only files a clean checkout has"
printf 'FROM scratch\nCOPY . /\n' >"$work/context.Dockerfile"
timeout 120 podman build --quiet --pull=never --network=host --file "$work/context.Dockerfile" \
  --tag localhost/shipshape-context:smoke . >/dev/null
context=$(podman image mount localhost/shipshape-context:smoke)
(cd "$context" && find . \( -type f -o -type l \) -printf '%P\t%s\n' | sort) >"$work/context-sizes.txt"
cut -f1 "$work/context-sizes.txt" >"$work/context.txt"
git ls-files --cached --others --exclude-standard | sort >"$work/checkout.txt"
extra=$(comm -23 "$work/context.txt" "$work/checkout.txt")
[[ -z $extra ]] || fail "the build context has files a clean checkout lacks:"$'\n'"$extra"
! grep -E '^(dist|web/dist)/|(^|/)node_modules/' "$work/context.txt" ||
  fail "pre-built files are in the build context"
awk -F '\t' '{ bytes += $2 } END { printf "%d files, %.0f kB\n", NR, bytes / 1000 }' "$work/context-sizes.txt"
podman image unmount localhost/shipshape-context:smoke >/dev/null

revision=$(git rev-parse HEAD)
version=$(node -p 'require("./package.json").version')
log "Building $IMAGE from the Dockerfile (revision $revision)"
build_started=$SECONDS
# --layers=false: the storage is new on every run, so there is no layer cache to reuse,
# and one commit per stage instead of one per instruction saves a good share of the build.
# --network=host for npm ci: buildah 1.28 has no slirp4netns, and its default bridge
# leaves firewall chains and address leases on the machine.
timeout 900 podman build --format docker --pull=never --layers=false --network=host \
  --tag "$IMAGE" \
  --build-arg "BASE_IMAGE=$base" \
  --build-arg "GIT_REVISION=$revision" \
  --build-arg "VERSION=$version" \
  --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  . >"$work/build.log" 2>&1 || {
  tail -n 40 "$work/build.log" >&2
  fail "podman build"
}
echo "built in $((SECONDS - build_started)) s"

log "Image configuration"
inspect() { podman image inspect --format "$1" "$IMAGE"; }
user=$(inspect '{{.Config.User}}')
[[ $user =~ ^[1-9][0-9]*(:[0-9]+)?$ ]] || fail "USER is '$user', not a numeric non-root id"
[[ $(inspect '{{index .Config.Labels "org.opencontainers.image.revision"}}') == "$revision" ]] ||
  fail "the revision label is not $revision"
[[ $(inspect '{{index .Config.Labels "org.opencontainers.image.version"}}') == "$version" ]] ||
  fail "the version label is not $version"
[[ $(inspect '{{.Config.Entrypoint}}') == '[]' ]] || fail "the base image's ENTRYPOINT is still set"
[[ $(inspect '{{.Config.Healthcheck}}') == *dist/healthcheck.js* ]] || fail "no HEALTHCHECK"
echo "labels $(inspect '{{json .Config.Labels}}')"
size=$(inspect '{{.Size}}')
base_size=$(podman image inspect --format '{{.Size}}' "$base")
echo "user $user; size $((size / 1000000)) MB (base $((base_size / 1000000)) MB," \
  "the app's layers $(((size - base_size) / 1000000)) MB)"

log "What the image carries, against scripts/image-budget.json"
budget() { node -p "require('./scripts/image-budget.json').$1"; }
image_root=$(podman image mount "$IMAGE")
# A package is a folder with a package.json right inside node_modules (or a @scope in it),
# nested ones included; package.json files deeper in a package are not counted.
packages=$(find "$image_root/app/node_modules" -name package.json -printf '%P\n' |
  grep -cE '^((@[^/]+/)?[^/@]+/node_modules/)*(@[^/]+/)?[^/@]+/package\.json$' || true)
modules_mb=$(($(du -s --apparent-size --block-size=1 "$image_root/app/node_modules" | cut -f1) / 1000000))
app_mb=$(((size - base_size) / 1000000))
podman image unmount "$IMAGE" >/dev/null
echo "node_modules: $packages packages, $modules_mb MB; the app's layers $app_mb MB; the image $((size / 1000000)) MB"
((packages <= $(budget nodeModulesPackages))) ||
  fail "$packages packages in node_modules, over the budget of $(budget nodeModulesPackages)"
((modules_mb <= $(budget nodeModulesMB))) ||
  fail "node_modules is $modules_mb MB, over the budget of $(budget nodeModulesMB) MB"
((app_mb <= $(budget appLayersMB))) ||
  fail "the app's layers are $app_mb MB, over the budget of $(budget appLayersMB) MB"

# How the image is meant to run: read-only root, the data volume, /tmp as tmpfs.
# (--read-only-tmpfs=false: podman would add writable /run and /var/tmp; Docker does not.)
run_args=(--read-only --read-only-tmpfs=false --tmpfs /tmp --volume "$VOLUME:/app/data")
podman volume create "$VOLUME" >/dev/null

log "node dist/migrate.js as a one-shot job"
timeout 120 podman run --rm "${run_args[@]}" "$IMAGE" node dist/migrate.js >"$work/migrate.log" 2>&1 || {
  cat "$work/migrate.log" >&2
  fail "the migrate job failed"
}
grep -o '"msg":"migrate: [^"]*"' "$work/migrate.log"

log "Without an admin token the image refuses to serve (it runs in production mode)"
if timeout 60 podman run --rm "${run_args[@]}" "$IMAGE" >"$work/no-token.log" 2>&1; then
  fail "the service started without ADMIN_TOKEN"
fi
grep -q 'ADMIN_TOKEN: required in production' "$work/no-token.log" || {
  cat "$work/no-token.log" >&2
  fail "the refusal does not name ADMIN_TOKEN"
}
echo "refused: $(grep -o 'ADMIN_TOKEN: required[^,]*' "$work/no-token.log")"

log "Starting the service"
started=$SECONDS
admin_token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
without_systemd_noise podman run --detach --name "$NAME" "${run_args[@]}" \
  --publish 127.0.0.1::3000 --env "SHUTDOWN_DRAIN_MS=$DRAIN_MS" \
  --env "ADMIN_TOKEN=$admin_token" "$IMAGE" >/dev/null
port=$(podman port "$NAME" 3000/tcp)
url=http://${port}
echo "published at $url"

# No systemd here, so podman runs no health checks by itself: run them until one passes.
poll "$HEALTHY_WITHIN_S" podman healthcheck run "$NAME" || fail "not healthy within $HEALTHY_WITHIN_S s"
health=$(podman inspect --format '{{.State.Health.Status}}' "$NAME")
[[ $health == healthy ]] || fail "health status is '$health'"
poll 30 curl -fsS --max-time 5 "$url/readyz" || fail "/readyz did not answer 200 (database in /app/data?)"
echo "healthy and ready $((SECONDS - started)) s after start"

log "HTTP from the host"
status_body=$(curl -fsS --max-time 5 "$url/status")
[[ $status_body == *'"status":"ok"'* && $status_body == *"\"revision\":\"$revision\""* ]] ||
  fail "/status: $status_body"
echo "/status: $status_body"
page=$(curl -fsS --max-time 5 "$url/")
[[ $page == *'id="root"'* ]] || fail "/ is not the web UI"
[[ $page =~ /assets/[^\"]+\.js ]] || fail "/ names no hashed asset"
asset=${BASH_REMATCH[0]}
asset_status=$(curl -sS --max-time 5 --output /dev/null --write-out '%{http_code}' "$url$asset")
[[ $asset_status == 200 ]] || fail "$asset answered $asset_status"
echo "/ is the web UI; $asset answers 200"
# @fastify/swagger-ui serves these from its own folder, in node_modules.
docs_status=$(curl -sS --max-time 5 --output /dev/null --write-out '%{http_code}' "$url/docs/static/swagger-ui.css")
[[ $docs_status == 200 ]] || fail "/docs/static/swagger-ui.css answered $docs_status"
echo "/docs/static/swagger-ui.css answers 200"

log "Inside the container"
in_container() { timeout 30 podman exec "$@"; }
ids=$(in_container "$NAME" node -e 'console.log(process.getuid() + ":" + process.getgid())')
[[ $ids == 1000:1000 ]] || fail "the process runs as $ids, not 1000:1000"
echo "process uid:gid $ids"
# Each package the bundle leaves external loads from /app, its dependencies with it (one
# that no dependency names, such as pg's optional native binding, is never installed).
externals=$(node -p 'const { dependencies } = require("./package.json");
  Object.keys(require("./scripts/bundle-externals.json").external)
    .filter((name) => name in dependencies).join(" ")')
# shellcheck disable=SC2086 # one argument per package name
in_container "$NAME" node --input-type=module \
  -e 'for (const name of process.argv.slice(1)) await import(name)' $externals ||
  fail "the externals do not all load: $externals"
echo "loads from /app: $externals"
# One line per folder: "ok" when a file could be written there, else the error code.
writes=$(in_container "$NAME" node -e '
  const fs = require("node:fs");
  for (const dir of process.argv.slice(1)) {
    const file = dir + "/.smoke-write-test";
    try {
      fs.writeFileSync(file, "x");
      fs.unlinkSync(file);
      console.log(dir + " ok");
    } catch (error) {
      console.log(dir + " " + error.code);
    }
  }' /app/data /tmp / /app /app/dist /app/node_modules /etc /usr /usr/local/bin /var/tmp /run /home/node)
echo "$writes"
while read -r dir result; do
  case $dir in
    /app/data | /tmp) [[ $result == ok ]] || fail "cannot write to $dir ($result)" ;;
    *) [[ $result != ok ]] || fail "could write to $dir" ;;
  esac
done <<<"$writes"
# As root, so that no folder's permissions hide a leftover (/root is private).
found=$(in_container --user 0 "$NAME" node -e '
  const fs = require("node:fs");
  const names = ["npm", "npx", "corepack", "yarn", "yarnpkg"];
  const paths = process.env.PATH.split(":").flatMap((dir) => names.map((name) => dir + "/" + name));
  paths.push("/usr/local/lib/node_modules", "/root/.npm", "/home/node/.npm", "/usr/local/share/.cache");
  console.log(paths.filter((path) => fs.existsSync(path)).join(" "));')
[[ -z $found ]] || fail "package managers or their caches in the runtime image: $found"
echo "no npm, npx, corepack or yarn, and no package manager cache"

log "podman stop -t $STOP_TIMEOUT_S: a drain, then exit 0"
stop_started=$(now_ms)
without_systemd_noise podman stop --time "$STOP_TIMEOUT_S" "$NAME" >/dev/null
stop_ms=$(($(now_ms) - stop_started))
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$NAME")
echo "stopped in $stop_ms ms with exit code $exit_code"
((exit_code == 0)) || fail "exit code $exit_code (137: killed after the stop timeout)"
((stop_ms < STOP_TIMEOUT_S * 1000)) || fail "the stop took the whole timeout"
((stop_ms >= DRAIN_MS)) || fail "the stop did not wait for the drain"
logs=$(podman logs "$NAME" 2>&1)
[[ $logs == *'shutdown: closed, exiting'* ]] || fail "no clean shutdown in the logs"

log "Image size"
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$IMAGE"
