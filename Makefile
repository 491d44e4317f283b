# Two commands: `make run` (set up, then serve the app with the seeds) and `make test`
# (set up, then run the whole suite). Every step is idempotent and skipped when done.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := .make
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test lint bench fuzz setup browser postgres clean help

help:
	@echo "make run    set up and serve on http://$(HOST):$(PORT)/ (seeds imported on first start)"
	@echo "make test   set up and run the whole test suite (browser and PostgreSQL tests included)"
	@echo "make lint   ruff: lint and format check (also part of make test)"
	@echo "make bench  run the benchmarks; results in benchmarks/results/*.json"
	@echo "make fuzz   100,000 generated files through the importers, 25,000 forms through the write routes"

run: setup
	$(BIN)/annotator serve --host $(HOST) --port $(PORT)

test: lint browser postgres
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	$(BIN)/python -m benchmarks.run_all

# The fuzz targets of the suite, 25,000 inputs each: the four importers (figures in
# benchmarks/results/fuzz.json) and the write routes. About an hour and a half here.
fuzz: setup
	FUZZ_EXAMPLES=25000 FUZZ_REPORT=benchmarks/results/fuzz.json $(BIN)/pytest -q -p no:cacheprovider \
	  tests/ingest/test_fuzz_importers.py tests/web/test_fuzz_routes.py

setup: $(STAMP)/python

# htmx comes from npm; the Python package maps node_modules/htmx.org/dist into its wheel,
# so npm runs first.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP)/python: pyproject.toml node_modules/.package-lock.json | $(VENV)/bin/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	@mkdir -p $(STAMP) && touch $@

# Debian's Chromium drives the browser tests (Playwright cannot download its own here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

# The PostgreSQL tests need a server on 127.0.0.1:5432; start the local cluster if it is
# installed but stopped (under CI=true an unreachable server fails those tests).
postgres:
	@if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  if command -v pg_ctlcluster >/dev/null 2>&1; then \
	    echo "Starting the local PostgreSQL cluster"; \
	    pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start || true; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) node_modules $(STAMP) *.egg-info
