"""init → compile → run --local on real `kedro new` projects, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from kedro_azureml.step.serialization import load_object
from tests.support.kedro_projects import kedro, last_run

# The quickstart's form (temporary storage), and the form without storage (data passing).
QUICKSTART_INIT = [
    "azureml",
    "init",
    "rg",
    "ws",
    "exp",
    "cpu-cluster",
    "acct",
    "container",
    "kedro-env@latest",
]
INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "kedro-env@latest"]


def test_init_writes_config_and_safe_amlignore(blank_project: Path) -> None:
    result = kedro(blank_project, *QUICKSTART_INIT)
    assert "Wrote" in result.stdout
    config = yaml.safe_load((blank_project / "conf/base/azureml.yml").read_text())
    assert config["azure"]["compute"]["__default__"]["cluster_name"] == "cpu-cluster"
    assert config["azure"]["temporary_storage"] == {
        "account_name": "acct",
        "container": "container",
    }
    assert config["azure"]["environment_name"] == "kedro-env@latest"
    ignore = (blank_project / ".amlignore").read_text()
    for pattern in (
        "conf/local/",
        ".env",
        ".git/",
        ".venv/",
        "data/*",
        "!data/01_raw/",
        "*.log",
        "/logs/",
        "/pipeline*.yaml",
    ):
        assert pattern in ignore.splitlines()
    assert config["azure"]["pipeline_data_passing"]["enabled"] is False
    again = kedro(blank_project, *QUICKSTART_INIT, check=False)
    assert again.returncode != 0
    assert "--force" in again.stdout + again.stderr
    (blank_project / ".amlignore").write_text("my-own-rule/\n")
    kedro(blank_project, *QUICKSTART_INIT, "--force")
    assert (blank_project / ".amlignore").read_text() == "my-own-rule/\n"


def test_compile_then_run_local_gives_right_values(small_project: Path) -> None:
    kedro(small_project, *INIT)
    compiling = kedro(small_project, "azureml", "compile", "-o", "pipeline.yaml")
    # The SDK's "experimental class" notices are noise the user cannot act on.
    assert "experimental" not in compiling.stdout + compiling.stderr
    compiled = yaml.safe_load((small_project / "pipeline.yaml").read_text())
    assert set(compiled["jobs"]) == {"scale", "summarise", "to_csv", "report"}
    assert compiled["jobs"]["report"]["inputs"]["scaled_csv"] == {
        "path": "${{parent.jobs.to_csv.outputs.scaled_csv}}"
    }

    result = kedro(small_project, "azureml", "run", "--local", "--from-yaml", "pipeline.yaml")
    assert "4/4" in result.stdout
    run_dir = last_run(small_project)
    # factor 3 over 1..10 → 165; the catalog CSV travelled as a CSV file
    report = load_object(str(run_dir / "outputs" / "report"))
    assert report == {"total": 165, "rows": 10, "max": 30}
    csv = run_dir / "data" / "to_csv" / "scaled_csv" / "scaled.csv"
    assert csv.read_text().splitlines()[:3] == ["x", "3", "6"]
    assert '"total": 165' in result.stdout  # small JSON job outputs are shown
    assert (run_dir / "logs" / "scale.log").read_text().startswith("$ kedro azureml execute")


def test_a_cached_local_csv_travels_to_the_next_step(small_project: Path) -> None:
    """A wrapper with no path of its own (CachedDataset) still carries its file across."""
    catalog = small_project / "conf" / "base" / "catalog.yml"
    catalog.write_text(
        catalog.read_text().replace(
            "scaled_csv:\n  type: pandas.CSVDataset\n  filepath: data/02_intermediate/scaled.csv",
            "scaled_csv:\n  type: CachedDataset\n  dataset:\n    type: pandas.CSVDataset\n"
            "    filepath: data/02_intermediate/scaled.csv",
        )
    )
    assert "CachedDataset" in catalog.read_text()
    kedro(small_project, *INIT)
    kedro(small_project, "azureml", "run", "--local", "--no-mlflow")
    run_dir = last_run(small_project)
    assert load_object(str(run_dir / "outputs" / "report"))["total"] == 165
    assert (run_dir / "data" / "to_csv" / "scaled_csv" / "scaled.csv").is_file()


def test_arrays_and_plain_objects_cross_steps_in_their_formats(small_project: Path) -> None:
    kedro(small_project, *INIT)
    # One node per step: the array and the closure must cross from make_kinds to use_kinds.
    kedro(
        small_project,
        "azureml",
        "run",
        "--local",
        "-p",
        "kinds",
        "--no-mlflow",
        "--group-by",
        "none",
    )
    run_dir = last_run(small_project)
    report = load_object(str(run_dir / "outputs" / "kinds_report"))
    assert report == {"array_sum": 135, "shifted": 103, "dtype": "int64"}
    formats = {}
    for port in ("array", "shift"):
        marker = run_dir / "data" / "make_kinds" / port / "_kedro_azureml.json"
        formats[port] = json.loads(marker.read_text())["format"]
    assert formats == {"array": "npy", "shift": "cloudpickle"}


def test_params_with_an_already_compiled_job_is_refused(small_project: Path) -> None:
    kedro(small_project, *INIT)
    kedro(small_project, "azureml", "compile", "-o", "pipeline.yaml")
    result = kedro(
        small_project,
        "azureml",
        "run",
        "--local",
        "--from-yaml",
        "pipeline.yaml",
        "--params",
        "factor=2",
        check=False,
    )
    assert result.returncode == 2
    assert "a --from-yaml job is already compiled" in result.stdout + result.stderr
    assert not (small_project / ".kedro-azureml" / "runs").exists()


def test_params_override_reaches_steps(small_project: Path) -> None:
    kedro(small_project, *INIT)
    kedro(small_project, "azureml", "run", "--local", "--params", "factor=2")
    report = load_object(str(last_run(small_project) / "outputs" / "report"))
    assert report["total"] == 110


def test_failing_step_skips_dependants_and_fails(small_project: Path) -> None:
    kedro(small_project, *INIT)
    # One node per step: explode's dependant after_explode must be a step of its own to skip.
    result = kedro(
        small_project,
        "azureml",
        "run",
        "--local",
        "-p",
        "failing",
        "--group-by",
        "none",
        check=False,
    )
    assert result.returncode == 1
    out = result.stdout
    assert "explode failed" in out and "boom: this node always fails" in out
    summary = json.loads((last_run(small_project) / "summary.json").read_text())
    statuses = {name: step["status"] for name, step in summary["steps"].items()}
    assert statuses["explode"] == "failed"
    assert statuses["after_explode"] == "skipped"
    assert statuses["report"] == "succeeded"  # independent steps still finish
    assert summary["succeeded"] is False
    assert "skipped" in out and "failed" in out  # the summary table
    log = last_run(small_project) / "logs" / "explode.log"
    assert "RuntimeError" in log.read_text()


def test_snapshot_honours_amlignore(small_project: Path) -> None:
    kedro(small_project, *INIT)
    (small_project / "conf" / "local" / "credentials.yml").write_text("secret: hunter2\n")
    (small_project / "data" / "01_raw" / "empty.csv").write_text("")
    kedro(small_project, "azureml", "run", "--local")
    # The run folder lists what the steps saw; the snapshot itself lived outside the project.
    listing = (last_run(small_project) / f"snapshot-{small_project.name}.txt").read_text()
    seen = {line for line in listing.splitlines() if not line.startswith("#")}
    assert "data/01_raw/numbers.csv" in seen
    assert not [name for name in seen if name.startswith("conf/local/")]
    assert "data/01_raw/empty.csv" not in seen  # Azure drops empty files


def test_run_local_fails_like_azure_when_raw_data_is_ignored(small_project: Path) -> None:
    kedro(small_project, *INIT)
    (small_project / ".amlignore").write_text("data/\n")
    result = kedro(small_project, "azureml", "run", "--local", check=False)
    assert result.returncode == 1
    # Kedro's rich log wraps long paths (the snapshot lives under the temp folder): unwrap.
    assert "numbers.csv" in "".join(result.stdout.split())


def test_an_empty_pipeline_is_an_error_not_an_empty_job(blank_project: Path) -> None:
    kedro(blank_project, *INIT)  # `kedro new` without the example: __default__ has no nodes
    result = kedro(blank_project, "azureml", "compile", "-o", "pipeline.yaml", check=False)
    assert result.returncode != 0
    assert "Pipeline '__default__' has no nodes" in result.stdout + result.stderr
    assert not (blank_project / "pipeline.yaml").exists()


def test_missing_config_says_run_init(small_project: Path) -> None:
    result = kedro(small_project, "azureml", "compile", check=False)
    assert result.returncode != 0
    assert "kedro azureml init" in result.stdout + result.stderr


def test_env_merging_and_oc_env(small_project: Path) -> None:
    kedro(small_project, *INIT)
    staging = small_project / "conf" / "staging"
    staging.mkdir()
    (staging / "azureml.yml").write_text(
        "azure:\n  experiment_name: ${oc.env:EXPERIMENT}\n  compute:\n    __default__:\n      cluster_name: big\n"
    )
    kedro(small_project, "azureml", "compile", "-e", "staging", EXPERIMENT="from-env")
    compiled = yaml.safe_load((small_project / "pipeline.yaml").read_text())
    assert compiled["experiment_name"] == "from-env"
    assert compiled["compute"] == "azureml:big"
    assert "--env staging" in compiled["jobs"]["scale"]["component"]["command"]


def test_unknown_key_error_names_file_and_key(small_project: Path) -> None:
    kedro(small_project, *INIT)
    path = small_project / "conf" / "base" / "azureml.yml"
    path.write_text(
        path.read_text().replace("  code_directory:", "  code_dir: x\n  code_directory:")
    )
    result = kedro(small_project, "azureml", "compile", check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "azureml.yml" in text and "azure.code_dir" in text


def test_plugin_leaves_plain_kedro_run_working(small_project: Path) -> None:
    # No azureml.yml in this project: the plugin's hook must stay out of the way.
    result = kedro(small_project, "run")
    assert "Pipeline execution completed successfully" in result.stdout + result.stderr
    csv = small_project / "data" / "02_intermediate" / "scaled.csv"
    assert csv.read_text().splitlines()[-1] == "30"


def test_cli_module_does_not_import_the_sdk() -> None:
    import subprocess
    import sys

    code = "import sys, kedro_azureml.cli, kedro_azureml.step.hooks; print(sorted(m for m in sys.modules if m.startswith('azure')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().replace("'", '"')) == []


def test_a_step_process_imports_no_azure_sdk(small_project: Path, tmp_path: Path) -> None:
    """The step's own command, as compiled, run under ``-X importtime``."""
    import re
    import shlex
    import subprocess
    import sys

    from tests.support.kedro_projects import quiet_env

    kedro(small_project, *INIT)
    kedro(small_project, "azureml", "compile", "-o", "pipeline.yaml")
    job = yaml.safe_load((small_project / "pipeline.yaml").read_text())
    command = job["jobs"]["scale"]["component"]["command"]
    argv = shlex.split(re.sub(r"\$\{\{outputs\.(\w+)\}\}", str(tmp_path / r"\1"), command))
    assert argv[:3] == ["kedro", "azureml", "execute"]
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kedro", *argv[1:]],
        cwd=small_project,
        env=quiet_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    imported = [
        line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line
    ]
    assert "kedro_azureml.step.execute" in imported  # the probe sees our modules...
    assert [name for name in imported if name.split(".")[0] == "azure"] == []  # ...and no SDK


def test_compile_to_another_folder_keeps_code_relative(small_project: Path, tmp_path: Path) -> None:
    from azure.ai.ml import load_job

    kedro(small_project, *INIT)
    out = tmp_path / "elsewhere" / "job.yaml"
    kedro(small_project, "azureml", "compile", "-o", str(out))
    compiled = yaml.safe_load(out.read_text())
    assert {job["component"]["code"] for job in compiled["jobs"].values()} == {"../demo"}
    assert load_job(out)._validate().passed
    # ...and that file runs as it is, from wherever it lies.
    kedro(small_project, "azureml", "run", "--local", "--from-yaml", str(out))
    report = load_object(str(last_run(small_project) / "outputs" / "report"))
    assert report["total"] == 165


def test_docker_image_flow_compiles_and_runs_locally_from_a_quoted_working_directory(
    small_project: Path,
) -> None:
    kedro(small_project, "azureml", "init", "rg", "ws", "exp", "cpu", "-d", "acr.local/demo:1")
    config = small_project / "conf" / "base" / "azureml.yml"
    text = config.read_text()
    assert "code_directory: ~" in text and "working_directory: /home/kedro_docker" in text
    config.write_text(
        text.replace("/home/kedro_docker", '"/home/my project/it\'s here"')  # spaces, a quote
    )
    kedro(small_project, "azureml", "compile", "-o", "pipeline.yaml")
    compiled = yaml.safe_load((small_project / "pipeline.yaml").read_text())
    command = compiled["jobs"]["scale"]["component"]["command"]
    assert command.startswith("cd '/home/my project/it'\"'\"'s here' && kedro azureml execute ")
    assert "code" not in compiled["jobs"]["scale"]["component"]

    # The image's working directory is the project here: the same command runs in it. The old
    # `cd (\S+) &&` pattern missed a quoted directory, and every step failed on its `cd`.
    result = kedro(small_project, "azureml", "run", "--local", "--from-yaml", "pipeline.yaml")
    assert "4/4" in result.stdout
    report = load_object(str(last_run(small_project) / "outputs" / "report"))
    assert report == {"total": 165, "rows": 10, "max": 30}

    # Compiled by the run itself: no step runs in a snapshot, so the one made on a guess before
    # the compile (to warm the steps' interpreter sooner) is gone, and not listed as seen.
    result = kedro(small_project, "azureml", "run", "--local")
    assert "4/4" in result.stdout
    run = last_run(small_project)
    assert load_object(str(run / "outputs" / "report")) == {"total": 165, "rows": 10, "max": 30}
    assert list(run.glob("snapshot-*")) == []
