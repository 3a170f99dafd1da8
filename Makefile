# Two commands on a fresh machine: `make demo` and `make test` (Python 3.10+, npm for Azurite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export KEDRO_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
EXAMPLE := examples/spaceflights
# kedro-mlflow registers its hooks in every Kedro project of its environment, so it gets a venv
# of its own; the kedro-mlflow tests drive `kedro` from it in subprocesses.
KEDRO_MLFLOW_VENV := .venv-kedro-mlflow

.PHONY: setup node kedro-mlflow-venv demo test lint unit bench clean docs docs-examples

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,distributed]"
	touch $@

kedro-mlflow-venv: $(KEDRO_MLFLOW_VENV)/.installed

$(KEDRO_MLFLOW_VENV)/.installed: pyproject.toml $(EXAMPLE)/requirements.txt $(EXAMPLE)/requirements-kedro-mlflow.txt
	$(PYTHON) -m venv $(KEDRO_MLFLOW_VENV)
	$(KEDRO_MLFLOW_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(KEDRO_MLFLOW_VENV)/bin/python -m pip install --quiet -e ".[mlflow,parquet]" -r $(EXAMPLE)/requirements-kedro-mlflow.txt
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
	$(BIN)/ruff check src tests benchmarks docs $(EXAMPLE)
	$(BIN)/ruff format --check src tests benchmarks docs
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

## The fast lane: in-process tests only (no subprocess, no torch, no Azurite), under a minute.
unit: setup
	$(BIN)/pytest tests/unit -q

## The documentation site in site/, built strictly (a broken link or reference fails) and
## offline; the CLI, azureml.yml and API reference and the example's step graph are generated.
docs: setup $(VENV)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

$(VENV)/.docs-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $@

## Remake the docs' example run report (docs/examples/run/) from a run --local of the example.
docs-examples: setup
	$(BIN)/python docs/scripts/example_run.py

## Lint, type-check, build the docs and run the whole test suite (Azurite is started by the
## tests), with coverage of the plugin, `kedro azureml ...` subprocesses included; fails under 85 %.
test: setup node kedro-mlflow-venv lint docs
	$(BIN)/pytest -n 2 -q --cov --cov-report=term

bench: setup
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(KEDRO_MLFLOW_VENV) node_modules .kedro-azureml $(EXAMPLE)/.kedro-azureml site
