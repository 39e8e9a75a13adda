# Thin wrappers over the npm scripts in package.json, plus Docker Compose.
# `make` alone lists the targets.

.DEFAULT_GOAL := help

.PHONY: help install dev start build lint test migrate bench compose-up compose-down observe observe-down k8s-dashboards clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN { FS = ":.*## " } { printf "  %-14s %s\n", $$1, $$2 }'

install: ## Install dependencies exactly as locked (npm ci)
	npm ci

dev: ## Run with reload on change (embedded Postgres unless DATABASE_URL is set)
	npm run dev

start: ## Build, then run the compiled server
	npm start

build: ## Compile TypeScript into dist/
	npm run build

lint: ## ESLint, Prettier check and dependency rules
	npm run lint

test: ## Build, then run the Jest suites
	npm test

migrate: ## Apply pending migrations to DATABASE_URL (needs a build: make build)
	npm run migration:run

bench: ## Build, then run the HTTP benchmark
	npm run bench:http

compose-up: ## Build the image and start Postgres, Redis and the app (needs JWT_SECRET, ADMIN_PASSWORD)
	docker compose up -d --build

compose-down: ## Stop the Compose stack (volumes are kept)
	docker compose down

observe: ## The app stack plus Prometheus, Alertmanager and Grafana (also needs GRAFANA_ADMIN_PASSWORD)
	@test -n "$$GRAFANA_ADMIN_PASSWORD" || { echo "set GRAFANA_ADMIN_PASSWORD (the Grafana admin password)" >&2; exit 1; }
	docker compose --profile observe up -d --build
	@echo "Conflux       http://localhost:3000  (API docs /docs, metrics /metrics)"
	@echo "Prometheus    http://localhost:9090  (alerts /alerts, targets /targets)"
	@echo "Alertmanager  http://localhost:9093"
	@echo "Grafana       http://localhost:3001  (user admin, password GRAFANA_ADMIN_PASSWORD)"

observe-down: ## Stop the whole stack, observability included (volumes are kept)
	docker compose --profile observe down

k8s-dashboards: ## Regenerate k8s/grafana-dashboards.yaml from deploy/grafana/dashboards
	npm run k8s:dashboards

clean: ## Remove build output and coverage
	rm -rf dist coverage
