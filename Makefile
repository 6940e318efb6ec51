# The two commands: `make run` (fresh machine to a running app) and `make test` (every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench install format clean

run: install
	$(BIN)/swaptally migrate
	$(BIN)/swaptally seed
	$(BIN)/swaptally serve --host $(HOST) --port $(PORT)

test: install
	scripts/system-deps postgresql nginx chromium
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Requests/sec and p99 of timeline pages and API lists at 200 and 20,000 stages (not part of test).
bench: install
	scripts/system-deps wrk nginx
	scripts/bench

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

install: $(VENV)/.installed node_modules/.package-lock.json

$(VENV)/.installed: pyproject.toml
	scripts/system-deps venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .coverage .hypothesis
