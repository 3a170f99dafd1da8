"""What opening a project for a compile imports: no data library the CLI never uses.

``kedro azureml compile`` and ``run --local`` open the project only to read it. Kedro adds
every parameter to the catalog as a MemoryDataset and imports pandas to choose its copy mode;
checking a catalog's dataset types would import every dataset of a kedro-datasets group. Both
cost about a second on a 1000-node project. A fresh interpreter is needed to see what an
import loads, so this runs in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.kedro_projects import kedro, quiet_env

REGISTRY = """
from kedro.pipeline import Pipeline, node


def add(numbers, factor):
    return numbers


def register_pipelines() -> dict[str, Pipeline]:
    return {"__default__": Pipeline([node(add, ["numbers", "params:factor"], "total")])}
"""

OPEN = """
import json, sys
from pathlib import Path
from kedro.io import memory_dataset
from kedro_azureml.project.catalog_check import check_dataset_types
from kedro_azureml.project.kedro_project import open_project

before = memory_dataset._infer_copy_mode
project = open_project(Path(sys.argv[1]))
names = project.pipeline("__default__").datasets()
check_dataset_types(names, project.dataset_config, project.env)
print(json.dumps({
    "heavy": sorted({"pandas", "numpy", "sqlalchemy", "kedro_datasets.pandas"} & set(sys.modules)),
    "factor": project._catalog.load("params:factor"),
    "nested": project._catalog.load("params:nested"),
    "restored": memory_dataset._infer_copy_mode is before,
}))
"""


def test_opening_a_project_imports_no_data_library(small_project: Path) -> None:
    package = next(p for p in (small_project / "src").iterdir() if p.is_dir() and "." not in p.name)
    (package / "pipeline_registry.py").write_text(REGISTRY)
    kedro(small_project, "azureml", "init", "rg", "ws", "exp", "cpu-cluster", "env@latest")
    (small_project / "conf/base/parameters.yml").write_text("factor: 3\nnested: {a: [1, 2]}\n")
    result = subprocess.run(
        [sys.executable, "-c", OPEN, str(small_project)],
        capture_output=True,
        text=True,
        cwd=small_project,
        env=quiet_env(),
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {"heavy": [], "factor": 3, "nested": {"a": [1, 2]}, "restored": True}
