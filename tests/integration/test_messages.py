"""What a new user sees for each mistake met in practice, through the real CLI."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.kedro_projects import BIN, kedro, last_run, quiet_env

pytestmark = pytest.mark.slow

INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "kedro-env@latest"]


def _text(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


@pytest.fixture
def project(small_project: Path) -> Path:
    kedro(small_project, *INIT)
    return small_project


def test_an_env_without_its_folder_is_named(project: Path) -> None:
    result = kedro(project, "azureml", "compile", "-e", "prod", check=False)
    text = _text(result)
    assert result.returncode == 1
    # Before: "No azureml.yml found in .../conf/base or .../conf/prod", beside the file.
    assert "Kedro environment 'prod' does not exist: there is no folder" in text
    assert "Environments of this project: base, local." in text
    assert "No azureml.yml" not in text


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["rg", "ws", "exp", "cpu", "kedro-env"],
            "Invalid value for ENVIRONMENT_NAME: 'kedro-env' is not a registered Azure ML "
            "environment reference",
        ),
        (
            ["rg", "ws", "exp", "cpu", "acct", "kedro-env@latest"],
            "Got 6 arguments: STORAGE_CONTAINER missing (7-argument form)",
        ),
        (["rg", "ws", "exp", "cpu", "acct", "cont"], "Got 6 arguments: ENVIRONMENT_NAME missing"),
        (["rg", "ws", "exp"], "Got 3 arguments: CLUSTER_NAME missing"),
        (
            ["rg", "ws", "my experiment", "cpu", "kedro-env@latest"],
            "Invalid value for EXPERIMENT_NAME: 'my experiment' is not a valid experiment name",
        ),
    ],
    ids=["bad-environment", "six-no-container", "six-no-environment", "three", "experiment"],
)
def test_init_names_the_argument_and_the_form(
    small_project: Path, args: list[str], expected: str
) -> None:
    result = kedro(small_project, "azureml", "init", *args, check=False)
    text = " ".join(_text(result).split())
    assert result.returncode == 2, text
    assert expected in text
    assert "azureml.yml" not in text.split("The forms")[0]  # the file is not to blame
    assert not (small_project / "conf" / "base" / "azureml.yml").exists()


def test_a_config_error_names_the_file_that_holds_the_key(project: Path) -> None:
    staging = project / "conf" / "staging"
    staging.mkdir()
    (staging / "azureml.yml").write_text("azure:\n  compute:\n    __default__:\n      clustr: x\n")
    result = kedro(project, "azureml", "compile", "-e", "staging", check=False)
    text = _text(result)
    assert result.returncode == 1
    # Before: "Invalid .../conf/(base|staging)/azureml.yml".
    assert "conf/staging/azureml.yml: azure.compute.__default__.clustr: Extra inputs" in text
    assert "(base|" not in text


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "conf/base/azureml.yml is empty"),
        ("# only comments\n", "conf/base/azureml.yml is empty"),
        ("- a\n- b\n", "conf/base/azureml.yml holds a list, not a mapping"),
    ],
    ids=["empty", "comments", "list"],
)
def test_an_empty_or_list_config_says_so(project: Path, content: str, expected: str) -> None:
    (project / "conf" / "base" / "azureml.yml").write_text(content)
    result = kedro(project, "azureml", "compile", check=False)
    text = _text(result)
    assert result.returncode == 1
    assert expected in text
    assert "No azureml.yml found" not in text and "Traceback" not in text


def test_a_bad_subscription_id_stops_before_sign_in(project: Path) -> None:
    result = kedro(project, "azureml", "run", "-s", "not-a-guid", check=False)
    text = " ".join(_text(result).split())
    assert result.returncode == 2
    assert (
        "Invalid value for -s/--subscription-id: 'not-a-guid' is not an Azure subscription" in text
    )
    env_result = kedro(project, "azureml", "run", check=False, AZURE_SUBSCRIPTION_ID="nope")
    assert "Invalid value for $AZURE_SUBSCRIPTION_ID" in " ".join(_text(env_result).split())


def test_compile_to_stdout_writes_only_the_yaml_there(project: Path) -> None:
    kedro(project, "azureml", "compile", "-o", "pipeline.yaml")
    result = kedro(project, "azureml", "compile", "-o", "-")
    # Kedro logs one line ("Using ... as logging configuration") before any plugin code
    # runs; with a logging config that writes to stderr, stdout is the YAML alone.
    config = project / "stderr-logging.yml"
    config.write_text(
        "version: 1\ndisable_existing_loggers: false\n"
        "handlers: {err: {class: logging.StreamHandler, stream: ext://sys.stderr}}\n"
        "loggers: {kedro: {level: INFO}}\nroot: {handlers: [err]}\n"
    )
    quiet = kedro(project, "azureml", "compile", "-o", "-", KEDRO_LOGGING_CONFIG=str(config))
    assert not (project / "-").exists()
    assert quiet.stdout == (project / "pipeline.yaml").read_text()
    assert "Wrote stdout (4 steps)" in quiet.stderr
    assert result.stdout.endswith((project / "pipeline.yaml").read_text())
    assert "Kedro environment 'base'" not in result.stdout


def test_the_commands_exist_inside_a_kedro_project_only(tmp_path: Path) -> None:
    """What the README says: outside a project Kedro knows no `azureml` command."""
    result = subprocess.run(
        [str(BIN / "kedro"), "azureml", "compile"],
        cwd=tmp_path,
        env=quiet_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "No such command 'azureml'" in result.stderr
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "inside a Kedro project" in readme and "No such command 'azureml'" in readme


def test_step_logs_hold_no_warnings_of_our_own_making(project: Path) -> None:
    kedro(project, "azureml", "run", "--local")
    logs = sorted((last_run(project) / "logs").glob("*.log"))
    assert len(logs) == 4
    for log in logs:
        text = " ".join(log.read_text().split())
        # Before: every step logged both. (Kedro 1.7 itself logs OmegaConf's
        # "register_new_resolver() is deprecated" with omegaconf 2.4: not ours.)
        assert "`pipeline_name` is deprecated" not in text, log.name
        assert "Replacing dataset" not in text, log.name
        assert "Completed" in text or "completed" in text


@pytest.fixture
def unwritable_project(project: Path) -> Iterator[tuple[Path, list[str]]]:
    """A copy of ``project`` the command may read but not write, and how to run it so.

    Root writes anywhere, so as root the command runs as nobody, on a copy outside pytest's
    private (0700) temporary folders.
    """
    base = Path(tempfile.mkdtemp(prefix="kedro-azureml-readonly-"))
    try:
        demo = Path(shutil.copytree(project, base / "demo"))
        run_as: list[str] = []
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                pytest.skip("running as root without setpriv")
            run_as = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            for path in [base, *base.rglob("*")]:
                path.chmod(path.stat().st_mode | stat.S_IROTH | stat.S_IXOTH)
        else:
            demo.chmod(0o555)
        yield demo, run_as
    finally:
        (base / "demo").chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


def test_a_folder_we_may_not_write_is_a_message(unwritable_project: tuple[Path, list[str]]) -> None:
    demo, run_as = unwritable_project
    for args, target in (
        (["compile"], str(demo)),
        (["run", "--local"], str(demo / ".kedro-azureml")),
    ):
        env = quiet_env(HOME="/tmp")
        if run_as:
            # coverage's subprocess patch would make the other user write its data file next to
            # .coverage, in a folder only we may write, and print that traceback at exit.
            env = {key: value for key, value in env.items() if not key.startswith("COVERAGE_")}
        result = subprocess.run(
            [*run_as, str(BIN / "kedro"), "azureml", *args],
            cwd=demo,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        text = " ".join(_text(result).split())
        assert result.returncode == 1, text[-2000:]
        # Before: a PermissionError traceback.
        assert f"Error: {target}: Permission denied." in text
        assert "Traceback" not in text


def test_from_yaml_that_is_not_yaml_is_a_message(project: Path) -> None:
    (project / "broken.yaml").write_text("jobs: [unclosed\n")
    result = kedro(project, "azureml", "run", "--local", "--from-yaml", "broken.yaml", check=False)
    text = " ".join(_text(result).split())
    assert result.returncode == 1
    assert "broken.yaml is not valid YAML" in text
    assert "Traceback" not in text


def test_an_unresolvable_interpolation_in_params_says_how_to_escape(project: Path) -> None:
    bad = kedro(
        project, "azureml", "compile", "--params", '{"factor": "${oc.env:HOME}"}', check=False
    )
    text = " ".join(_text(bad).split())
    assert bad.returncode == 1
    assert "--params factor='${oc.env:HOME}': Kedro reads ${...} in parameter overrides" in text
    assert "escape it as \\${...}" in text
    assert "Traceback" not in text
    # Escaped, it reaches the node as it is, as with `kedro run --params`.
    kedro(project, "azureml", "compile", "--params", '{"factor": 2, "note": "\\\\${x}"}')


def test_trailing_newlines_give_valid_yaml_or_a_usage_error(project: Path) -> None:
    kedro(project, "azureml", "compile", "--env-var", "FOO=x:\n", "--env-var", "BAR=plain\n")
    job = yaml.safe_load((project / "pipeline.yaml").read_text())
    assert job["jobs"]["scale"]["environment_variables"] == {"BAR": "plain\n", "FOO": "x:\n"}
    for option in (["-i", "myacr.azurecr.io/img:1\n"], ["--env-var", "FOO\n=x"]):
        result = kedro(project, "azureml", "compile", "-o", "other.yaml", *option, check=False)
        assert result.returncode == 2, option
        assert "Invalid value for" in _text(result)
    assert not (project / "other.yaml").exists()
