# The two commands a newcomer needs: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
PORT ?= 5000
HOST ?= 127.0.0.1
export FLASK_APP := wsgi

.PHONY: install run run-prod test lint format seed clean bench relevance bench-import bench-rebuild bench-pdf bench-evidence bench-enumeration load load-enrol bench-pages scan scan-install scan-selftest

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

## Set up, migrate, seed an empty database and serve at http://$(HOST):$(PORT)
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask taxonomy load
	$(BIN)/flask seed --if-empty
	$(BIN)/flask search sync
	$(BIN)/flask run --host $(HOST) --port $(PORT)

## The production layout on this machine: gunicorn (GUNICORN_WORKERS, default 3) and one search
## follower on PostgreSQL (DATABASE_URL, default postgresql://academy:academy@127.0.0.1/academy;
## docs/deploy.md says how to create it) at http://127.0.0.1:8000. Ctrl-C stops both.
run-prod: install
	PORT=$(if $(filter command line environment,$(origin PORT)),$(PORT),8000) scripts/run-prod

## Set up and run the whole suite, lint included (TEST_DATABASE_URL selects PostgreSQL)
test: install lint
	$(BIN)/python -m pytest

## Search benchmark: Whoosh against a minimal FTS5 baseline at 1k, 10k and 100k courses
bench: install
	$(BIN)/python bench/search_bench.py $(BENCH_ARGS)

## Relevance: the judged queries (bench/relevance_judgments.yaml) through a fresh install's real
## import and /api/v1/courses, with plain Whoosh BM25F and SQLite FTS5 on the same rows
relevance: install
	$(BIN)/python bench/relevance.py $(RELEVANCE_ARGS)

## Rebuild benchmark: `flask search rebuild` of the search benchmark's 100k catalogue (built once
## into a SQLite file under /tmp and reused), with --procs 2; BENCH_ARGS="--size 10000 --runs 3"
bench-rebuild: install
	$(BIN)/python bench/rebuild_bench.py $(BENCH_ARGS)

## CSV import benchmark: 10,000 rows through the provider's upload screen
bench-import: install
	$(BIN)/python bench/import_bench.py $(BENCH_ARGS)

## Load test: gunicorn on PostgreSQL (LOAD_DATABASE_URL, default the local academy_load database),
## 10k courses, 50 users x 30 s per phase, then the enrolment storm (fails on any error)
LOAD_DATABASE_URL ?= postgresql://academy:academy@127.0.0.1:5432/academy_load
export LOAD_DATABASE_URL
$(BIN)/.installed-load: pyproject.toml $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[test,load]'
	touch $@

load: $(BIN)/.installed-load
	$(BIN)/python bench/load.py $(LOAD_ARGS)

## Only the enrolment storm: 200 simultaneous enrolments for 20 places through gunicorn
load-enrol: $(BIN)/.installed-load
	$(BIN)/python bench/load.py --storm-only $(LOAD_ARGS)

## Page benchmark: wrk against gunicorn on PostgreSQL (LOAD_DATABASE_URL, the load catalogue):
## hello, a minimal FTS5 search page, search (every query new, repeated), course pages, browse,
## My learning, 10 s each; then CPU per request in process against the targets (a few minutes)
bench-pages: install
	$(BIN)/python bench/pages_bench.py $(BENCH_ARGS)

## PDF export benchmark: the printable summary of 200 entries (target under 1.5 s)
bench-pdf: install
	$(BIN)/python bench/pdf_bench.py $(BENCH_ARGS)

## Account enumeration by time: register, log-in and reset, known against unknown addresses
## (medians must differ by under 10 ms; DATABASE_URL selects the database)
bench-enumeration: install
	$(BIN)/python bench/enumeration_bench.py $(BENCH_ARGS)

## Evidence check benchmark: checking PDFs and images near the 10 MB limit
bench-evidence: install
	$(BIN)/python bench/evidence_bench.py $(BENCH_ARGS)

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
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(SCAN_VENV) build/scan instance .pytest_cache .ruff_cache
