# pocket-search: every command a newcomer, ops or CI needs. `make help` lists them.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SERVICES := $(PY) scripts/services.py
API_HOST ?= 127.0.0.1
API_PORT ?= 8000

.PHONY: help venv services services-down services-status run stop test test-unit lint bench demo-catalog clean

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml native/Cargo.toml native/Cargo.lock $(wildcard native/src/*.rs)
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)  ## create .venv with the pinned dependencies

services:  ## start Elasticsearch 9 and Kafka 4 on loopback (downloads once via Maven)
	$(SERVICES) up

services-down:  ## stop the services that `make services` started
	$(SERVICES) down

services-status:  ## show health, pids and RSS of the services
	$(SERVICES) status

run: venv services  ## the whole service with a demo catalog: API on http://127.0.0.1:8000
	API_HOST=$(API_HOST) API_PORT=$(API_PORT) scripts/run-demo

stop:  ## stop the indexer and API started by `make run`
	scripts/run-demo stop

test: venv services  ## run the whole suite against real ES and Kafka
	$(BIN)/pytest $(PYTEST_ARGS)

test-unit: venv  ## only the pure-code tests (no services)
	$(BIN)/pytest -m unit $(PYTEST_ARGS)

lint: venv  ## ruff and mypy; rustfmt and clippy on the native core
	$(BIN)/ruff check .
	$(BIN)/mypy
	cd native && cargo fmt --check && cargo clippy --release -q -- -D warnings

bench: venv services  ## benchmarks: figures as ratios against the raw ES/Kafka floor
	$(BIN)/python -m bench.run_all

clean:  ## remove the venv and caches (not the downloaded services)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
