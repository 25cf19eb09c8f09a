# A thin index of verbs: each target is one npm script or docker compose command.
# `make` alone runs the production-like stack; `make help` lists the verbs.

COMPOSE ?= docker compose
# The image is tagged with, and /status reports, the commit it was built from.
export GIT_REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
SECRETS := POSTGRES_PASSWORD REDIS_PASSWORD GRAFANA_ADMIN_PASSWORD ADMIN_TOKEN

.DEFAULT_GOAL := run
.PHONY: help build run stop logs dev test lint smoke

help: ## list the verbs
	@awk 'BEGIN { FS = ":.*## " } /^[a-z.]+:.*## / { printf "  make %-7s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

build: .env ## build the image (docker compose build)
	$(COMPOSE) build

run: .env ## start the stack and wait until it is healthy: http://localhost:8080
	$(COMPOSE) up --detach --build --wait
	@echo "shipshape: http://localhost:8080  Grafana: http://localhost:3001  Prometheus: http://localhost:9090"

stop: ## stop the stack (data volumes stay; `docker compose down -v` drops them)
	$(COMPOSE) down

logs: ## follow the app replicas' logs
	$(COMPOSE) logs --follow app

dev: .env ## the API and UI with hot reload in containers: http://localhost:5173
	$(COMPOSE) --profile dev up --build --renew-anon-volumes dev

test: ## lint, types and every test (npm test)
	npm test

lint: ## ESLint and Prettier (npm run lint)
	npm run lint

smoke: ## build the image and prove it runs, with podman (scripts/container-smoke.sh)
	scripts/container-smoke.sh

# Made once from .env.example, each blank secret replaced by 24 random bytes in hex.
# Never remade: compose names any variable a newer compose.yaml needs and .env lacks.
.env:
	sed $(foreach key,$(SECRETS),-e "s/^$(key)=$$/$(key)=$$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')/") .env.example > $@
	@echo "wrote $@ with random secrets; Grafana's login is admin / GRAFANA_ADMIN_PASSWORD"
