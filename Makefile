# chainfin — every target sets itself up from a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
DEMO_DB ?= var/demo.db

.PHONY: help venv demo test test-pg fuzz lint format typecheck contracts pytest bench lock clean

help:
	@echo "make demo   - set up, seed the synthetic region into SQLite, run the demo story, serve on http://$(HOST):$(PORT)"
	@echo "make test   - set up, then lint, types, layer contracts and the test suite"
	@echo "make bench  - set up, then run the benchmarks under bench/"
	@echo "make fuzz   - the property tests with random seeds and a larger budget"
	@echo "make lint   - ruff lint and format check"

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

demo: venv
	mkdir -p var
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm $(DEMO_DB).clock
	CHAINFIN_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/chainfin db upgrade
	CHAINFIN_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/chainfin demo run --region all --scale small --seed 42 --clock-file $(DEMO_DB).clock
	# The story runs ahead of today; serve the platform at the day it ended (see README).
	CHAINFIN_DATABASE_URL=sqlite:///$(DEMO_DB) CHAINFIN_CLOCK=$$(cat $(DEMO_DB).clock) $(BIN)/chainfin serve --host $(HOST) --port $(PORT)

test: venv lint typecheck contracts pytest

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: venv
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

typecheck: venv
	$(BIN)/mypy

contracts: venv
	$(BIN)/lint-imports

pytest: venv
	$(BIN)/pytest -q -n 2

# The same suite against PostgreSQL; .ci/run sets CHAINFIN_TEST_DATABASE_URL.
test-pg: venv
	@test -n "$$CHAINFIN_TEST_DATABASE_URL" || (echo "set CHAINFIN_TEST_DATABASE_URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test" && exit 2)
	$(BIN)/pytest -q -n 2

# The property tests with random seeds and ten times the examples (not in CI: a new
# counter-example is for a person to pin with @example and fix, not a red CI run).
fuzz: venv
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -q -n 2 $$(grep -rl 'from hypothesis' tests)

bench: venv
	$(BIN)/python bench/run.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/documents.py
	$(BIN)/python bench/fraud_score.py
	$(BIN)/python bench/credentials.py
	$(BIN)/python bench/iso20022.py
	$(BIN)/python bench/lending.py
	$(BIN)/python bench/scorecard.py
	$(BIN)/python bench/debtrank.py
	$(BIN)/python bench/early_warning.py
	$(BIN)/python bench/iot.py
	$(BIN)/python bench/chain_scorecard.py
	$(BIN)/python bench/signin.py
	$(BIN)/python bench/cli_start.py
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/strategy.py

# Re-resolve pinned dependencies after editing pyproject.toml.
lock: venv
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 --universal -o requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
