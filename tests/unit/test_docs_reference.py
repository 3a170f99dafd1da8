"""The generated parts of the docs site (docs/hooks/generated.py) cover what the code has."""

from __future__ import annotations

import importlib.util
import typing
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import BaseModel

from kedro_azureml.config import AzureMLConfig

pytest.importorskip("mkdocs", reason='the docs extra: pip install -e ".[docs]"')
HOOKS = Path(__file__).resolve().parents[2] / "docs" / "hooks" / "generated.py"


@pytest.fixture(scope="module")
def hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generated", HOOKS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _models(model: type[BaseModel]) -> set[type[BaseModel]]:
    found = {model}
    for field in model.model_fields.values():
        stack = [field.annotation]
        while stack:
            annotation = stack.pop()
            is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
            if is_model and annotation not in found:
                found |= _models(annotation)
            stack += typing.get_args(annotation)
    return found


def test_every_model_and_key_of_azureml_yml_has_a_row(hooks: ModuleType) -> None:
    text = hooks.config_reference()
    for model in _models(AzureMLConfig):
        assert f"### {model.__name__}\n" in text
        for name, field in model.model_fields.items():
            assert f"| `{field.alias or name}` |" in text, (model.__name__, name)
    assert "| `sas_ttl_days` | number | `7" in text
    assert '| `auth` | `"sas"` \\| `"identity"` | `"sas"` |' in text


def test_error_classes_are_found_in_the_source(hooks: ModuleType) -> None:
    found = hooks.error_classes()
    assert found["KedroAzureMLError"] == "kedro_azureml.errors"
    assert found["SubmitCheckError"] == "kedro_azureml.commands.submit"
    assert {"ConfigError", "CompileError", "StepDataError", "StepOutputError"} <= set(found)
    assert "StepTimedOut" not in found  # a plain Exception: a step status, not an error
    troubleshooting = (HOOKS.parents[1] / "troubleshooting.md").read_text()
    assert all(f"### `{name}`" in troubleshooting for name in found)
