# A thin index of verbs: each target is one npm script or docker compose command.
# `make` alone runs the production-like stack; `make help` lists the verbs.

COMPOSE ?= docker compose
# The image is tagged with, and /status reports, the commit it was built from.
export GIT_REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
SECRETS := POSTGRES_PASSWORD REDIS_PASSWORD GRAFANA_ADMIN_PASSWORD ADMIN_TOKEN

.DEFAULT_GOAL := run
.PHONY: help build run stop logs backup restore dev test lint smoke
.PHONY: ci-lint ci-dependencies ci-test ci-schema-compat ci-infra ci-k8s ci-diff smoke-remote

help: ## list the verbs
	@awk 'BEGIN { FS = ":.*## " } /^[a-z.]+:.*## / { printf "  make %-7s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo "The pipeline's steps, as the workflows in .github/workflows/ run them:"
	@awk 'BEGIN { FS = ":.*#ci " } /^[a-z0-9-]+:.*#ci / { printf "  - make %-16s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

build: .env ## build the image (docker compose build)
	$(COMPOSE) build

run: .env ## start the stack and wait until it is healthy: http://localhost:8080
	$(COMPOSE) up --detach --build --wait
	@echo "shipshape: http://localhost:8080  Grafana: http://localhost:3001  Prometheus: http://localhost:9090"

stop: ## stop the stack (data volumes stay; `docker compose down -v` drops them)
	$(COMPOSE) down

logs: ## follow the app replicas' logs
	$(COMPOSE) logs --follow app

# The stack's database, to and from files in backups/ here. pg_dump and pg_restore run in the
# postgres container: its port is not published, and they must be the server's version.
# They connect as shipshape over its socket, which the image trusts for local connections.
PG_EXEC := $(COMPOSE) exec -T --user postgres postgres
DB_URL := postgresql:///shipshape?user=shipshape

backup: ## dump the stack's database to backups/<name>.dump (scripts/db-backup.sh)
	PG_EXEC="$(PG_EXEC)" scripts/db-backup.sh "$(DB_URL)" backups

# The replicas are stopped first, so none writes to the database being replaced or caches
# from it. Redis is emptied: its cache generations know nothing of a restore, so pages cached
# before it would still be served (and it holds nothing else but rate-limit windows). `up`
# then runs migrate (a backup older than the code gets the newer migrations) and starts the
# replicas. A failed restore changes nothing, and the replicas are started again.
restore: ## restore FILE=backups/<name>.dump, the replicas stopped meanwhile (scripts/db-restore.sh)
	@test -f "$(FILE)" || { echo "usage: make restore FILE=backups/<name>.dump" >&2; exit 2; }
	$(COMPOSE) stop app
	$(COMPOSE) exec -T redis redis-cli FLUSHALL
	PG_EXEC="$(PG_EXEC)" scripts/db-restore.sh "$(DB_URL)" "$(FILE)" || { $(COMPOSE) up --detach --wait; exit 1; }
	$(COMPOSE) up --detach --wait

dev: .env ## the API and UI with hot reload in containers: http://localhost:5173
	$(COMPOSE) --profile dev up --build --renew-anon-volumes dev

test: ## lint, types and every test (npm test)
	npm test

lint: ## ESLint and Prettier (npm run lint)
	npm run lint

smoke: ## build the image and prove it runs, with podman (scripts/container-smoke.sh)
	scripts/container-smoke.sh

# The pipeline's steps, one verb each: the npm scripts the workflows in .github/workflows/
# run, so a red check reproduces here. `make help` lists them after the everyday verbs.
ci-lint: #ci ESLint, Prettier and the type checks (the lint job)
	npm run lint
	npm run typecheck

# After `npm ci`, which it checks. It asks the registry npm is configured with for the
# signatures and the advisories: .ci/run leaves it out, its mirror refusing both.
ci-dependencies: #ci registry signatures, and no high advisory in the production dependencies
	npm audit signatures
	npm audit --audit-level=high --omit=dev

ci-test: #ci build, then the api and web tests with coverage and a JUnit report
	npm run test:ci

ci-schema-compat: #ci the previous release's HTTP tests on this commit's migrations
	scripts/schema-compat.sh

ci-infra: #ci synthesize both AWS environments, then the CDK tests
	npm run synth
	npm run test:infra

ci-k8s: #ci render and validate the Kubernetes manifests
	npm run test:k8s

ci-diff: #ci cdk diff of staging against AWS (needs credentials)
	npm run diff:staging

# The deploy workflow's smoke test, against any running shipshape:
# make smoke-remote URL=https://staging.example.com [SHA=<deployed commit>]
SHA ?= $(GIT_REVISION)
smoke-remote: #ci smoke-test URL for revision SHA (scripts/smoke-test.sh)
	scripts/smoke-test.sh "$(URL)" "$(SHA)"

# Made once from .env.example, each blank secret replaced by 24 random bytes in hex.
# Never remade: compose names any variable a newer compose.yaml needs and .env lacks.
.env:
	sed $(foreach key,$(SECRETS),-e "s/^$(key)=$$/$(key)=$$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')/") .env.example > $@
	@echo "wrote $@ with random secrets; Grafana's login is admin / GRAFANA_ADMIN_PASSWORD"
