# The two commands a newcomer needs: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
PORT ?= 5000
HOST ?= 127.0.0.1
export FLASK_APP := wsgi

.PHONY: install run test lint format seed clean bench bench-import scan scan-install scan-selftest

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

## Set up, migrate, seed an empty database and serve at http://$(HOST):$(PORT)
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed --if-empty
	$(BIN)/flask search sync
	$(BIN)/flask run --host $(HOST) --port $(PORT)

## Set up and run the whole suite, lint included (TEST_DATABASE_URL selects PostgreSQL)
test: install lint
	$(BIN)/python -m pytest

## Search benchmark: Whoosh against a minimal FTS5 baseline at 1k, 10k and 100k courses
bench: install
	$(BIN)/python bench/search_bench.py $(BENCH_ARGS)

## CSV import benchmark: 10,000 rows through the provider's upload screen
bench-import: install
	$(BIN)/python bench/import_bench.py $(BENCH_ARGS)

## Security scans (docs/security.md): sqlmap, wapiti and bandit against a freshly seeded app;
## fails on any finding. The scanners live in their own virtualenv, $(SCAN_VENV).
SCAN_VENV ?= .venv-scan

$(SCAN_VENV)/bin/.installed: security/requirements.txt
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install --quiet --upgrade pip
	$(SCAN_VENV)/bin/pip install --quiet -r security/requirements.txt
	touch $@

scan-install: $(SCAN_VENV)/bin/.installed

scan: install scan-install
	$(BIN)/python -m security.scan $(SCAN_ARGS)

## Proves the scan sees something: it must fail on a deliberately vulnerable route, and name it
scan-selftest: install scan-install
	$(BIN)/python -m security.scan --selftest $(SCAN_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(SCAN_VENV) build/scan instance .pytest_cache .ruff_cache
