"""Rules of the layout that import-linter cannot see (its contracts are in pyproject.toml).

Only ``kedro_azureml.cloud`` builds an ``MLClient``: the one place that signs in, honours the
test seam and turns SDK errors into messages. import-linter cannot check this, as
``from azure.ai.ml import MLClient`` imports the same ``azure.ai.ml`` package the compiler
builds its jobs with; so this test reads the source. Naming the type (annotations) is fine.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kedro_azureml

PACKAGE = Path(kedro_azureml.__file__).parent


def ml_client_constructions(source: str) -> list[int]:
    """Lines that call ``MLClient(...)`` or one of its class methods, under any alias."""
    tree = ast.parse(source)
    aliases = {"MLClient"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            aliases |= {a.asname or a.name for a in node.names if a.name == "MLClient"}
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            func = func.value if func.value.id in aliases else func  # MLClient.from_config()
        if (isinstance(func, ast.Name) and func.id in aliases) or (
            isinstance(func, ast.Attribute) and func.attr == "MLClient"
        ):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("from azure.ai.ml import MLClient\nclient = MLClient(cred, 's', 'rg', 'ws')", [2]),
        ("from azure.ai.ml import MLClient as Client\n\nClient(cred)", [3]),
        ("import azure.ai.ml\nazure.ai.ml.MLClient(cred)", [2]),
        ("from azure.ai.ml import MLClient\nMLClient.from_config(cred)", [2]),
        ("from azure.ai.ml import MLClient\n\ndef f(client: MLClient) -> MLClient: ...", []),
        ("client.jobs.get('x')", []),
    ],
    ids=["call", "alias", "attribute", "from-config", "annotation-only", "other-call"],
)
def test_the_scan_sees_each_way_to_build_a_client(source: str, lines: list[int]) -> None:
    assert ml_client_constructions(source) == lines


def test_only_cloud_builds_an_ml_client() -> None:
    found = {
        path.relative_to(PACKAGE).as_posix(): ml_client_constructions(path.read_text())
        for path in sorted(PACKAGE.rglob("*.py"))
    }
    builders = {path for path, lines in found.items() if lines}
    assert builders == {"cloud/client.py"}
