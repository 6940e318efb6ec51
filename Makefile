# The two commands: `make run` (fresh machine to a running app) and `make test` (every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# Python packages install from requirements.lock (exact versions and hashes), regenerated from
# pyproject.toml's ranges by `make lock` with uv, pinned here and kept in its own venv.
LOCK := requirements.lock
RUNTIME_LOCK := requirements-runtime.lock
UV_VERSION := 0.13.9
LOCK_VENV := .venv-lock
UV := $(LOCK_VENV)/bin/uv
# Keeps every pin that pyproject.toml still allows; `make lock LOCK_FLAGS=--upgrade` moves all to the
# newest allowed, `LOCK_FLAGS='--upgrade-package fastapi'` just one.
LOCK_FLAGS ?=
COMPILE = $(strip $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' $(LOCK_FLAGS))

.PHONY: run test lint bench install lock format clean

run: install
	$(BIN)/swaptally migrate
	$(BIN)/swaptally seed
	$(BIN)/swaptally serve --host $(HOST) --port $(PORT)

# The tests run on one pytest-xdist worker per core, which take tests from each other's queues
# when they run dry (worksteal; a module's fixtures are built on each worker that runs one of its
# tests); `make test TEST_WORKERS=0` runs one process. On 2 cores, 2,056 tests: 612 s wall (828 s
# CPU) against 693 s (947 s) with whole files per worker (--dist loadfile).
TEST_WORKERS ?= auto

test: install
	scripts/system-deps postgresql nginx chromium
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

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

$(VENV)/.installed: pyproject.toml $(LOCK)
	scripts/system-deps venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# Runtime and dev packages for `make` (universal: any platform, Python 3.11+), then the runtime ones
# alone at the same versions for the Docker image.
lock: $(LOCK_VENV)/.uv-$(UV_VERSION)
	$(COMPILE) --extra dev -o $(LOCK) pyproject.toml
	$(COMPILE) -c $(LOCK) -o $(RUNTIME_LOCK) pyproject.toml

$(LOCK_VENV)/.uv-$(UV_VERSION):
	scripts/system-deps venv
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet uv==$(UV_VERSION)
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

clean:
	rm -rf $(VENV) $(LOCK_VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .coverage .hypothesis
