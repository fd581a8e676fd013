# Aligned: every entry point a developer, CI or an operator's laptop needs.
# `make up` and `make test` work on a fresh machine: missing tools are fetched first.

SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN := $(UV) run --frozen --all-packages
PYTEST_ARGS ?=

.PHONY: k8s-tools k8s-validate demo demo-setup help deps infra-install infra-up infra-down infra-reset topics migrate up down status logs lint test test-unit test-integration schemas schemas-check client-check bench clean browser-install screenshots

help:
	@echo "make up      start Kafka, PostgreSQL, s3proxy, Mailpit, migrations and every service (prints the gateway and mailbox URLs)"
	@echo "make demo    walk the five flows through the gateway (after make up)"
	@echo "make status  one table: every server and service, its pid, port and health"
	@echo "make logs SERVICE=gateway   follow one service's log, readably"
	@echo "make down    stop everything (data is kept under .local/)"
	@echo "make lint    ruff (lint, format), mypy and deptry, as make test runs them first"
	@echo "make test    unit, integration, contract and end-to-end tests on a real broker and database"
	@echo "make bench   benchmarks, written to bench/results.json"
	@echo "make schemas regenerate schemas/ from the event models and the API's routes"
	@echo "make client-check  generate the TypeScript client from schemas/openapi.json and type-check its example"
	@echo "make screenshots  the client pages in headless chromium, written to docs/screenshots"

# uv itself comes from PyPI; then the locked workspace.
deps:
	@PYTHON="$(PYTHON)" bash deploy/local/deps.sh

infra-up:
	@bash deploy/local/infra.sh up

# What the servers run (jars, PostgreSQL, the Mailpit build) before pytest starts, so a first
# run's downloads and compile count against no test's timeout. Not where the tests use
# testcontainers (a Docker engine answers) or infrastructure already running (external).
infra-install:
	@if [[ "$${ALIGNED_TEST_INFRA:-}" == local ]] || { [[ "$${ALIGNED_TEST_INFRA:-}" != external ]] && ! docker info >/dev/null 2>&1; }; then \
		bash deploy/local/infra.sh install; fi

# Debian's chromium (apt) and axe-core (npm, into .local/cache) for tests/acceptance/browser;
# says why and goes on when it cannot (the browser tests then skip with that reason).
browser-install:
	@bash deploy/local/browser.sh

infra-down:
	@bash deploy/local/infra.sh down

infra-reset:
	@bash deploy/local/infra.sh reset

topics: deps infra-up
	@$(RUN) python -c "import asyncio; from aligned_common.kafka import ensure_topics; asyncio.run(ensure_topics('127.0.0.1:$${ALIGNED_KAFKA_PORT:-19092}'))"

migrate: deps infra-up
	@bash deploy/local/services.sh migrate

up: deps infra-up topics migrate
	@bash deploy/local/services.sh up

down:
	@bash deploy/local/services.sh down || true
	@bash deploy/local/infra.sh down

# Connect the sandbox account, draft, approve as the client, publish, metrics, a platform
# webhook in and a brand's webhook out: all through the gateway, printed step by step.
demo: deps
	@$(RUN) python deploy/local/demo.py run

# The demo brand and an owner's token for it (make up runs this; for docker compose, see README).
demo-setup: deps
	@$(RUN) python deploy/local/demo.py setup

# One table: the servers' rows, then the services' (the second header dropped).
status:
	@bash deploy/local/infra.sh status || true
	@bash deploy/local/services.sh status | tail -n +2 || true

# make logs SERVICE=gateway (or publishing, ..., postgres, kafka, s3proxy, mailpit)
logs:
	@bash deploy/local/services.sh logs "$(SERVICE)"

# ruff (lint and format) and mypy, configured in pyproject.toml; the first stage of `make test`.
# deptry: every workspace member declares what it imports (its pyproject.toml, [tool.deptry]).
lint: deps
	@$(RUN) ruff check .
	@$(RUN) ruff format --check .
	@$(RUN) mypy
	@for member in libs/common libs/testing services/*/; do (cd "$$member" && $(RUN) deptry src) || exit 1; done

test: lint client-check deps infra-install browser-install
	@$(RUN) pytest $(PYTEST_ARGS)

test-unit: deps
	@$(RUN) pytest -m unit $(PYTEST_ARGS)

test-integration: deps infra-install browser-install
	@$(RUN) pytest -m "integration or e2e" $(PYTEST_ARGS)

# The frontend's contract: TypeScript types generated from schemas/openapi.json (openapi-typescript,
# from npm) and an example using them through openapi-fetch, type-checked.
client-check:
	@cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error && npm run --silent check

# The client pages at phone and desktop widths, as the browser tests see them: docs/screenshots/*.png
# (checked in, linked from docs/client-pages.md).
screenshots: deps infra-install browser-install
	@ALIGNED_SCREENSHOTS=docs/screenshots $(RUN) pytest tests/acceptance/browser -q $(PYTEST_ARGS)

schemas: deps
	@$(RUN) python -m aligned_common.schemas write
	@$(RUN) python -m aligned_testing.contract write

schemas-check: deps
	@$(RUN) python -m aligned_common.schemas check
	@$(RUN) python -m aligned_testing.contract check

bench: deps infra-up
	@$(RUN) python -m bench

# Kubernetes manifests: tools and schemas come from package registries (deploy/k8s/tools.sh).
k8s-tools:
	@bash deploy/k8s/tools.sh

k8s-validate:
	@bash deploy/k8s/validate.sh

clean:
	rm -rf .venv .pytest_cache bench/results.json
