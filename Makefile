# The two-command quick start: `make demo` and `make test`. Both create .venv
# and install what they need, so they work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo demo-digest test lint typecheck unit install dev clean bench mutate

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

## Start the terminal chat on a sample community (no tokens needed).
demo: $(VENV)/.installed
	$(BIN)/copbot demo

## The terminal chat with a digest of the current channel every minute.
demo-digest: $(VENV)/.installed
	$(BIN)/copbot demo --digest-every 1

## Lint, type-check and run the whole test suite.
test: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

## The scale benchmark at 100k and 1M messages, SQLite and a throwaway local PostgreSQL,
## with the reference engines and the semantic stage; prints every figure, then the
## targets (long: see README "Performance"). A quick check: make bench SIZES=10k
## Extra options for bench.scale: make bench BENCH_ARGS="--replay-up-to 0 --json out.json"
SIZES ?= 100k,1m
BENCH_ARGS ?=
bench: $(VENV)/.dev-installed
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m bench.scale --sizes $(SIZES) --db local $(BENCH_ARGS)

## Mutation testing of the community's rules (tens of minutes; on demand, not in CI).
## The modules and their tests: mutation.toml. One module: make mutate MODULES=knowledge/query.py
## Re-run only the last survivors after adding tests: make mutate ARGS=--survivors
## The last run's table again, without running: make mutate ARGS=--report
MODULES ?=
ARGS ?=
mutate: $(VENV)/.dev-installed
	$(BIN)/python -m pip install --quiet -e ".[mutation]"
	nice -n 15 $(BIN)/python tools/mutate.py $(ARGS) $(MODULES)

clean:
	rm -rf $(VENV) demo-data .pytest_cache .mypy_cache .ruff_cache .mutants
