"""Kedro's run filters on `compile`: the same nodes as `kedro run` with the same filters.

One copy of the example project, with its intermediate tables declared as Parquet files (made
by one full `kedro run`, and let into the code snapshot), so that filters which leave out the
nodes making them still have their data; a hook records which nodes `kedro run` ran.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.support.kedro_projects import copy_example, kedro

pytestmark = pytest.mark.slow

CATALOG = """
data_processing.preprocessed_companies:
  type: pandas.ParquetDataset
  filepath: data/02_intermediate/preprocessed_companies.parquet
data_processing.preprocessed_shuttles:
  type: pandas.ParquetDataset
  filepath: data/02_intermediate/preprocessed_shuttles.parquet
model_input_table:
  type: pandas.ParquetDataset
  filepath: data/03_primary/model_input_table.parquet
"""

RECORDER = """

import os as _os

from kedro.framework.hooks import hook_impl as _hook_impl


class _RecordNodes:
    @_hook_impl
    def after_node_run(self, node):
        if _os.environ.get("RECORD_NODES"):
            with open(_os.environ["RECORD_NODES"], "a") as stream:
                stream.write(node.name + "\\n")


HOOKS = (_RecordNodes(),)
"""

DP = "data_processing."
DS = "data_science.active_modelling_pipeline."
TABLES_JOB = {"pipeline": {"to_nodes": [f"{DP}create_model_input_table_node"]}}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_example(tmp_path_factory.mktemp("filters"))
    with (project / "conf" / "base" / "catalog.yml").open("a") as stream:
        stream.write(CATALOG)
    with (project / "src" / "spaceflights" / "settings.py").open("a") as stream:
        stream.write(RECORDER)
    with (project / ".amlignore").open("a") as stream:
        stream.write("!data/02_intermediate/\n!data/03_primary/\n")
    config_file = project / "conf" / "base" / "azureml.yml"
    config = yaml.safe_load(config_file.read_text())  # the example has jobs of its own
    config.setdefault("jobs", {})["tables"] = TABLES_JOB
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    kedro(project, "run")
    return project


def _kedro_run_nodes(project: Path, tmp_path: Path, args: list[str]) -> set[str]:
    record = tmp_path / "nodes.txt"
    kedro(project, "run", *args, RECORD_NODES=str(record))
    return set(record.read_text().split())


def _compiled_nodes(project: Path, tmp_path: Path, args: list[str]) -> set[str]:
    output = tmp_path / "job.yaml"
    kedro(project, "azureml", "compile", "-o", str(output), *args)
    job = yaml.safe_load(output.read_text())
    return {
        name
        for step in job["jobs"].values()
        for name in step["component"]["tags"]["kedro_nodes"].split(",")
    }


@pytest.mark.parametrize(
    ("args", "size"),
    [
        pytest.param(
            ["-n", f"{DP}preprocess_companies_node,{DP}preprocess_shuttles_node"], 2, id="nodes"
        ),
        pytest.param(["--from-nodes", f"{DP}create_model_input_table_node"], 4, id="from-nodes"),
        pytest.param(["--to-nodes", f"{DP}create_model_input_table_node"], 3, id="to-nodes"),
        pytest.param(["--from-inputs", "model_input_table"], 3, id="from-inputs"),
        pytest.param(["--to-outputs", f"{DP}preprocessed_companies"], 1, id="to-outputs"),
        pytest.param(["-t", "chunky"], 2, id="tags"),
        pytest.param(["-ns", "data_science"], 3, id="namespaces"),
        pytest.param(
            [
                "--from-nodes",
                f"{DP}create_model_input_table_node",
                "--to-nodes",
                f"{DS}split_data_node",
            ],
            2,
            id="from-and-to",
        ),
    ],
)
def test_each_filter_selects_the_nodes_kedro_run_runs(
    project: Path, tmp_path: Path, args: list[str], size: int
) -> None:
    ran = _kedro_run_nodes(project, tmp_path, args)
    compiled = _compiled_nodes(project, tmp_path, args)
    assert compiled == ran
    assert len(compiled) == size


def test_a_jobs_filters_narrowed_by_the_command_line(project: Path, tmp_path: Path) -> None:
    compiled = _compiled_nodes(project, tmp_path, ["-j", "tables", "-t", "chunky"])
    # Kedro intersects filters given together: the same nodes as both filters at once.
    ran = _kedro_run_nodes(
        project, tmp_path, ["--to-nodes", f"{DP}create_model_input_table_node", "-t", "chunky"]
    )
    assert (
        compiled == ran == {f"{DP}preprocess_companies_node", f"{DP}create_model_input_table_node"}
    )


def test_data_a_left_out_node_makes_must_be_in_the_snapshot(project: Path, tmp_path: Path) -> None:
    amlignore = project / ".amlignore"
    saved = amlignore.read_text()
    amlignore.write_text(saved.replace("!data/03_primary/\n", ""))
    try:
        result = kedro(
            project,
            "azureml",
            "compile",
            "-o",
            str(tmp_path / "x.yaml"),
            "--from-inputs",
            "model_input_table",
            check=False,
        )
    finally:
        amlignore.write_text(saved)
    message = " ".join(result.stderr.split())
    assert result.returncode == 1
    assert (
        f"Dataset 'model_input_table' is read by node '{DS}split_data_node', but node "
        f"'{DP}create_model_input_table_node' that makes it is left out by the filters, and its "
        "file data/03_primary/model_input_table.parquet is left out of the code snapshot by "
        ".amlignore" in message
    )
    assert "Traceback" not in result.stderr
