# shipshape's image, built from a clean checkout and nothing else: `docker build .`
# Stages: deps (every dependency the build needs) → build (API and web UI) →
# runtime-deps (the packages the bundle leaves out) → runtime (what runs, nothing more).

# Node 24, the LTS line: the official node:24-bookworm-slim as published with Node
# 24.18.0 (July 2026), pinned by digest so a rebuild starts from the same bytes.
# Dependabot's docker ecosystem moves the digest on the FROM line below, but it does not
# read ARG defaults (dependabot-core#2057), hence a named stage as BASE_IMAGE's default.
# `--build-arg BASE_IMAGE=<image>` builds on another base: a registry mirror, or the
# stand-in of scripts/container-smoke.sh. (Podman 4.3 cannot resolve a stage named by an
# ARG: there, pass the image itself.)
ARG BASE_IMAGE=node-lts
FROM node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d AS node-lts

FROM ${BASE_IMAGE} AS deps
WORKDIR /app
# Manifests first, so source changes reuse the installed dependencies.
COPY package.json package-lock.json ./
COPY web/package.json web/
# The root's and the web UI's dependencies; other workspaces (infra/aws) are not built here.
# The cache mount keeps npm's download cache out of every layer.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --workspace=web --include-workspace-root --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json ./
COPY scripts/build-server.ts scripts/bundle-externals.json scripts/
COPY src/ src/
COPY web/ web/
RUN npm run build

FROM ${BASE_IMAGE} AS runtime-deps
WORKDIR /app
COPY package.json package-lock.json ./
# The root package's production dependencies, each the version package-lock.json names:
# without --workspaces=false, npm would also install every workspace's (the web UI's React
# and MUI are already compiled into web/dist).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --workspaces=false --no-audit --no-fund
# Of those, the bundle in dist/ holds all but the few it leaves external: only these and
# their own dependencies go on, to /runtime.
COPY scripts/runtime-packages.ts scripts/bundle-externals.json scripts/
RUN node scripts/runtime-packages.ts /app /runtime

FROM ${BASE_IMAGE} AS runtime
# npm, npx, yarn and corepack fetch and run code as any user, and the app never calls
# them. (Their bytes stay in the base image's layers; what matters is that nothing runs
# them.) /app/data is made before VOLUME so a new volume starts owned by the app's user.
RUN rm -rf /usr/local/lib/node_modules /opt/yarn-v* \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg \
    && mkdir -p /app/data \
    && chown 1000:1000 /app/data
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/data
# Owned by root: the app's user reads its code but cannot change it, even with a
# writable root filesystem.
COPY --from=runtime-deps /runtime/node_modules/ node_modules/
COPY package.json ./
COPY migrations/ migrations/
# The source maps too (dist/*.map): a few MB, read only when a process runs with
# NODE_OPTIONS=--enable-source-maps, the way to get src/ lines in a stack trace
# (docs/operations.md, Logs).
COPY --from=build /app/dist/ dist/
COPY --from=build /app/web/dist/ web/dist/

# The only writable place the app needs besides /tmp (PGlite's files when DATABASE_URL
# is unset); everything else can be mounted read-only.
VOLUME ["/app/data"]
EXPOSE 3000
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 1000:1000
# The app drains on SIGTERM (readiness 503, then close): give it SHUTDOWN_DRAIN_MS plus
# SHUTDOWN_TIMEOUT_MS before the runtime kills it (docker stop -t, compose's
# stop_grace_period, Kubernetes' terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
# The interval bounds how long compose's service_healthy waits once the app is up, and
# each probe starts a Node process, so not more often. The timeout is the probe's own
# plus Node's start-up. The start period covers PGlite creating its database on a first
# start. Liveness only: /readyz is what decides traffic.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "dist/healthcheck.js"]
# Not the base's entrypoint script: Node is PID 1 and handles SIGTERM itself
# (src/platform/shutdown.ts), with no shell in between.
ENTRYPOINT []
CMD ["node", "dist/main.js"]

# Last, so a new commit only changes metadata and every layer above stays cached.
ARG VERSION=
ARG GIT_REVISION=unknown
ARG CREATED=
ARG SOURCE_URL=
ENV GIT_REVISION=${GIT_REVISION}
LABEL org.opencontainers.image.title="shipshape" \
      org.opencontainers.image.description="A small stateful web service: items, a camera counter and birthdays on Fastify, PostgreSQL and Redis." \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${GIT_REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE_URL}"
