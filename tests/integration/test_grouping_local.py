"""Grouped steps run --local end to end: several nodes per step, intra-step data in memory."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from kedro_azureml.step.serialization import load_object
from tests.support.kedro_projects import copy_example, kedro, last_run


def _folders(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.glob("*/*") if p.is_dir()}


def test_example_grouped_by_namespace_runs_green(tmp_path: Path) -> None:
    project = copy_example(tmp_path)
    result = kedro(project, "azureml", "run", "--local", "--group-by", "namespace")
    run_dir = last_run(project)
    summary = json.loads((run_dir / "summary.json").read_text())
    statuses = {name: step["status"] for name, step in summary["steps"].items()}
    # Two namespaces; data_processing is split because two of its nodes are tagged for the
    # `chunky` compute and one is not: 3 steps instead of 6.
    assert statuses == {
        "data_processing_preprocess_shuttles_node": "succeeded",
        "data_processing": "succeeded",
        "data_science": "succeeded",
    }
    assert "3/3" in result.stdout
    metrics = load_object(
        str(run_dir / "outputs" / "data_science_active_modelling_pipeline_metrics")
    )
    assert set(metrics) >= {"r2_score"} and 0.5 <= metrics["r2_score"] <= 1.0

    compiled = yaml.safe_load((run_dir / "pipeline.yaml").read_text())
    command = compiled["jobs"]["data_science"]["component"]["command"]
    assert command.count("--node ") == 3
    # Only the datasets crossing steps got a folder; X_train, regressor, ... stayed in memory.
    assert _folders(run_dir / "data") == {
        "data_processing/model_input_table",
        "data_processing_preprocess_shuttles_node/data_processing_preprocessed_shuttles",
    }
    assert not list((run_dir / "data").rglob("*regressor*"))


def test_grouped_step_keeps_intra_step_data_in_memory(tmp_path: Path) -> None:
    project = copy_example(tmp_path)
    # Drop the compute tags: the whole data_processing namespace becomes one step.
    config = project / "conf" / "base" / "azureml.yml"
    data = yaml.safe_load(config.read_text())
    del data["azure"]["compute"]["chunky"]
    config.write_text(yaml.safe_dump(data))
    kedro(project, "azureml", "run", "--local", "--group-by", "namespace")
    run_dir = last_run(project)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert sorted(summary["steps"]) == ["data_processing", "data_science"]
    assert _folders(run_dir / "data") == {"data_processing/model_input_table"}
    written = {p.name for p in (run_dir / "data").rglob("*") if p.is_file()}
    assert not any("preprocessed" in name for name in written)
    assert (run_dir / "outputs" / "data_science_active_modelling_pipeline_metrics").is_dir()
