# Two commands on a fresh machine: `make demo` and `make test` (Python 3.10+, npm for Azurite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export KEDRO_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
EXAMPLE := examples/spaceflights

.PHONY: setup node demo test lint unit bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,distributed]"
	touch $@

node: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

## Compile the example project and run the compiled Azure ML job locally, step by step.
demo: setup
	cd $(EXAMPLE) && ../../$(BIN)/python scripts/generate_data.py
	cd $(EXAMPLE) && ../../$(BIN)/kedro azureml run --local

## Ruff, mypy, and the import-linter contracts of pyproject.toml (who may import whom).
lint: setup
	$(BIN)/ruff check src tests benchmarks $(EXAMPLE)
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

## The fast lane: in-process tests only (no subprocess, no torch, no Azurite), under a minute.
unit: setup
	$(BIN)/pytest tests/unit -q

## Lint, type-check and run the whole test suite (Azurite is started by the tests).
test: setup node lint
	$(BIN)/pytest -n 2 -q

bench: setup
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) node_modules .kedro-azureml $(EXAMPLE)/.kedro-azureml
