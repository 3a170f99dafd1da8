# Two commands on a fresh machine: `make demo` and `make test` (Python 3.10+, npm for Azurite
# and the docs' Mermaid).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The demo's own venv: only what the example needs (its requirements.txt), no test tools.
DEMO_VENV := .venv-demo
# The lowest-versions lane: every direct dependency at its floor, on the oldest Python we
# support (the newest 3.10 pyenv has, else whatever python3.10 uv finds).
LOWEST_VENV := .venv-lowest
LOWEST_PYTHON ?= $(or $(lastword $(wildcard $(HOME)/.pyenv/versions/3.10.*/bin/python3.10)),3.10)
LOWEST_WORKERS ?= 2
export KEDRO_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
EXAMPLE := examples/spaceflights
# kedro-mlflow registers its hooks in every Kedro project of its environment, so it gets a venv
# of its own; the kedro-mlflow tests drive `kedro` from it in subprocesses.
KEDRO_MLFLOW_VENV := .venv-kedro-mlflow

.PHONY: setup node kedro-mlflow-venv demo test lint unit lowest bench clean docs docs-examples

setup: $(VENV)/.installed

# The uninstall: venvs made before the rename hold this project as kedro-azureml, the original
# plugin's name, which `kedro azureml` would then warn about.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip uninstall --quiet --yes kedro-azureml
	$(BIN)/python -m pip install --quiet -e ".[test,distributed]"
	touch $@

kedro-mlflow-venv: $(KEDRO_MLFLOW_VENV)/.installed

# From the example's folder: its requirements.txt installs this project by a relative path.
$(KEDRO_MLFLOW_VENV)/.installed: pyproject.toml $(EXAMPLE)/requirements.txt $(EXAMPLE)/requirements-kedro-mlflow.txt
	$(PYTHON) -m venv $(KEDRO_MLFLOW_VENV)
	$(KEDRO_MLFLOW_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(KEDRO_MLFLOW_VENV)/bin/python -m pip uninstall --quiet --yes kedro-azureml
	cd $(EXAMPLE) && ../../$(KEDRO_MLFLOW_VENV)/bin/python -m pip install --quiet -e "../..[mlflow,parquet]" -r requirements-kedro-mlflow.txt
	touch $@

node: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

## Compile the example project and run the compiled Azure ML job locally, step by step.
## Its own venv holds only what the example needs (its requirements.txt): no test tools, no
## torch, no MLflow; each is one extra away (`pip install "kedro-azureml-next[mlflow]"`).
demo: $(DEMO_VENV)/.installed
	cd $(EXAMPLE) && ../../$(DEMO_VENV)/bin/python scripts/generate_data.py
	cd $(EXAMPLE) && ../../$(DEMO_VENV)/bin/kedro azureml run --local

# uv installs the requirements in a third of pip's time (parallel downloads, no bytecode step).
$(DEMO_VENV)/.installed: pyproject.toml $(EXAMPLE)/requirements.txt
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/python -m pip install --quiet uv
	cd $(EXAMPLE) && ../../$(DEMO_VENV)/bin/uv pip install --quiet --python ../../$(DEMO_VENV)/bin/python -r requirements.txt
	touch $@

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
## Mermaid's script comes from npm (`node`), so the site draws Mermaid blocks with no CDN.
docs: setup node $(VENV)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

$(VENV)/.docs-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $@

## Remake the docs' example run report (docs/examples/run/) from a run --local of the example.
docs-examples: setup
	$(BIN)/python docs/scripts/example_run.py

## Every direct dependency at the lowest version pyproject.toml allows (uv's lowest-direct
## resolution), on Python 3.10: the unit tests, then the example's compile and run --local from
## that venv. Proves the floors. The example is copied and stamped with the installed Kedro's
## version, as `kedro new` of that Kedro would have made it (Kedro refuses another minor).
lowest: $(LOWEST_VENV)/.installed
	$(LOWEST_VENV)/bin/pytest tests/unit -q -n $(LOWEST_WORKERS)
	rm -rf $(LOWEST_VENV)/example && cp -r $(EXAMPLE) $(LOWEST_VENV)/example
	rm -rf $(LOWEST_VENV)/example/.kedro-azureml
	cd $(LOWEST_VENV)/example && sed -i "s/^kedro_init_version = .*/kedro_init_version = \"$$(../bin/python -c 'import kedro; print(kedro.__version__)')\"/" pyproject.toml
	cd $(LOWEST_VENV)/example && ../bin/python scripts/generate_data.py
	cd $(LOWEST_VENV)/example && ../bin/kedro azureml compile -o pipeline.yaml
	cd $(LOWEST_VENV)/example && ../bin/kedro azureml run --local --from-yaml pipeline.yaml

$(LOWEST_VENV)/.installed: pyproject.toml .ci/lowest-excludes.txt | setup
	rm -rf $(LOWEST_VENV)
	$(BIN)/uv venv --quiet --python $(LOWEST_PYTHON) $(LOWEST_VENV)
	$(BIN)/uv pip install --quiet --python $(LOWEST_VENV)/bin/python --resolution lowest-direct \
		--excludes .ci/lowest-excludes.txt -e ".[test,mlflow]"
	touch $@

## Lint, type-check, build the docs, prove the floors (`lowest`), then run the whole test suite
## (Azurite is started by the tests) with coverage of the plugin, `kedro azureml ...`
## subprocesses included; fails under 85 %.
test: setup node kedro-mlflow-venv lint docs lowest
	$(BIN)/pytest -n 2 -q --cov --cov-report=term

bench: setup
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(KEDRO_MLFLOW_VENV) $(DEMO_VENV) $(LOWEST_VENV) node_modules .kedro-azureml $(EXAMPLE)/.kedro-azureml site
