"""``kedro azureml compile`` / ``run`` in-process with click's ``CliRunner``: how options are
parsed and which combinations are refused before anything is opened.

The command functions (``compile_to_file``, ``run_local``, ``submit_project``) are replaced by
recorders: what is checked here is what the CLI hands them. What they then do is covered by
the integration tests, through the real ``kedro`` executable.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner, Result

from kedro_azureml.cli import commands
from kedro_azureml.commands.submit import SubmitSettings
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.errors import CompileError

SUB_1 = "11111111-1111-1111-1111-111111111111"
SUB_2 = "22222222-2222-2222-2222-222222222222"


class Calls:
    """What each command function was called with, by name."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, outcome: Any = True) -> None:
        self.seen: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {}
        self.outcome = outcome
        for module, name in [
            ("kedro_azureml.commands.compile", "compile_to_file"),
            ("kedro_azureml.commands.run_local", "run_local"),
            ("kedro_azureml.commands.submit", "submit_project"),
        ]:
            monkeypatch.setattr(f"{module}.{name}", self._recorder(name))

    def _recorder(self, name: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> Any:
            self.seen[name] = (args, kwargs)
            if isinstance(self.outcome, Exception):
                raise self.outcome
            if name == "compile_to_file":
                return SimpleNamespace(
                    plan=SimpleNamespace(steps=[1, 2]), seconds=0.25, env_note="Config env: base"
                )
            return self.outcome

        return record


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    return Calls(monkeypatch)


def invoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.chdir(tmp_path)  # no Kedro metadata: the project is the current folder
    return CliRunner().invoke(commands, ["azureml", *args], catch_exceptions=False)


def test_compile_hands_over_every_option_parsed(
    calls: Calls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = invoke(
        tmp_path,
        monkeypatch,
        *("compile", "-e", "prod", "-p", "data_processing"),
        *("--params", "model.alpha=0.5,name=x", "--env-var", "A=1", "--env-var", "B=x=y"),
        *("--load-versions", "companies:3,shuttles:2", "--group-by", "none"),
        *("--aml-env", "kedro-env:4", "-o", "out/job.yaml"),
    )

    assert result.exit_code == 0, result.output
    (project, output, request), kwargs = calls.seen["compile_to_file"]
    assert (project, output) == (tmp_path, tmp_path / "out" / "job.yaml")
    assert kwargs["grouping"] == "none"
    assert kwargs["job"].pipeline == "data_processing" and kwargs["job"].job is None
    assert request == CompileOptions(
        pipeline_name="data_processing",
        env="prod",
        params={"model": {"alpha": 0.5}, "name": "x"},
        env_vars={"A": "1", "B": "x=y"},
        aml_env="kedro-env:4",
        load_versions={"companies": "3", "shuttles": "2"},
    )
    assert result.output.endswith("Config env: base\nWrote out/job.yaml (2 steps) in 0.25s\n")


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["-e", "staging", "compile"], "staging"),
        (["-e", "staging", "compile", "-e", "prod"], "prod"),
        (["compile"], None),
    ],
    ids=["group-env", "command-env-wins", "no-env"],
)
def test_env_from_the_group_or_the_command(
    calls: Calls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], env: str | None
) -> None:
    assert invoke(tmp_path, monkeypatch, *args).exit_code == 0
    (_, _, request), _ = calls.seen["compile_to_file"]
    assert request.env == env


@pytest.mark.parametrize(("outcome", "code"), [(True, 0), (False, 1)], ids=["created", "failed"])
def test_run_submits_with_its_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, outcome: bool, code: int
) -> None:
    calls = Calls(monkeypatch, outcome)
    result = invoke(
        tmp_path,
        monkeypatch,
        *("run", "-s", SUB_1, "--wait-for-completion", "--group-by", "tag"),
        *("--on-job-scheduled", "hooks:record", "--allow-secrets-upload", "--params", '{"a": 1}'),
    )

    assert result.exit_code == code, result.output
    (project, request, settings), _ = calls.seen["submit_project"]
    assert project == tmp_path and request.params == {"a": 1}
    assert settings == SubmitSettings(
        subscription_id=SUB_1,
        grouping="tag",
        wait=True,
        on_job_scheduled="hooks:record",
        allow_secrets_upload=True,
    )
    assert "run_local" not in calls.seen


def test_run_local_hands_over_its_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls(monkeypatch, 0)  # run_local returns the exit code
    (tmp_path / "job.yaml").write_text("jobs: {}\n")
    result = invoke(
        tmp_path,
        monkeypatch,
        *("run", "--local", "--from-yaml", "job.yaml", "--max-workers", "3", "--no-mlflow"),
        *("-s", SUB_2, "--env-var", "K=v", "--cold-start"),
    )

    assert result.exit_code == 0, result.output
    (project, request), kwargs = calls.seen["run_local"]
    assert project == tmp_path and request.env_vars == {"K": "v"}
    job_request = kwargs.pop("job_request")
    assert job_request.job is None and job_request.pipeline is None
    assert kwargs == {
        "grouping": None,
        "from_yaml": Path("job.yaml"),
        "max_workers": 3,
        "mlflow": False,
        "resume": None,
        "subscription_id": SUB_2,
        "remote_storage": False,
        "cold_start": True,
    }
    assert "submit_project" not in calls.seen


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--from-yaml", "job.yaml"], "--from-yaml goes with --local."),
        (["run", "--remote-storage"], "--remote-storage goes with --local."),
        (
            ["run", "--local", "--from-yaml", "job.yaml", "--params", "a=1"],
            "--params changes what is compiled; a --from-yaml job is already compiled.",
        ),
        (
            ["run", "--local", "--from-yaml", "missing.yaml"],
            "Invalid value for '--from-yaml': File 'missing.yaml' does not exist.",
        ),
        (
            ["compile", "--env-var", "NOVALUE"],
            "Invalid value for --env-var: 'NOVALUE' is not KEY=VALUE with a valid variable name",
        ),
        (
            ["run", "--env-var", "1ST=x"],
            "Invalid value for --env-var: '1ST=...' is not KEY=VALUE with a valid variable name",
        ),
        (
            ["compile", "--aml-env", "kedro-env@latest", "-i", "acr.io/img:1"],
            "Give either --aml-env or --image, not both.",
        ),
        (
            ["compile", "--params", '{"a": '],
            "Invalid value for --params: not valid JSON",
        ),
        (
            ["compile", "--params", "a.b"],
            "Invalid value for --params: 'a.b' is not key=value",
        ),
        (
            ["run", "--load-versions", "companies"],
            "Invalid value for --load-versions: 'companies' is not dataset:version",
        ),
        (
            ["compile", "--group-by", "nodes"],
            "Invalid value for '--group-by': 'nodes' is not one of",
        ),
        (
            ["run", "--local", "--max-workers", "0"],
            "Invalid value for '--max-workers': 0 is not in the range x>=1.",
        ),
        (
            ["compile", "--graph", "steps.png"],
            "Invalid value for '--graph': 'steps.png' must end with .mmd, .md, .html",
        ),
    ],
    ids=[
        "from-yaml-without-local",
        "remote-storage-without-local",
        "from-yaml-with-params",
        "from-yaml-missing-file",
        "env-var-without-value",
        "env-var-bad-name",
        "aml-env-with-image",
        "params-bad-json",
        "params-not-key-value",
        "load-versions-without-version",
        "unknown-grouping",
        "no-workers",
        "graph-unknown-suffix",
    ],
)
def test_usage_errors_stop_before_any_work(
    calls: Calls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    (tmp_path / "job.yaml").write_text("jobs: {}\n")

    result = invoke(tmp_path, monkeypatch, *args)

    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert calls.seen == {}


def test_a_plugin_error_is_one_line_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    Calls(monkeypatch, CompileError("Node 'train': num_nodes must be a positive integer."))

    result = invoke(tmp_path, monkeypatch, "compile")

    assert result.exit_code == 1
    assert result.output == "Error: Node 'train': num_nodes must be a positive integer.\n"
