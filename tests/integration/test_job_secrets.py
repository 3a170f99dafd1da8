"""No secret is written into a job by any route: compile (to a file, to stdout, with --graph),
run --local, run --dry-run, schedule. Each is refused with one message naming the option and the
fix, and leaves no file holding the secret anywhere in the project (``.kedro-azureml/`` and its
compile cache included)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.integration.test_submit import _point_at_standin, _ready, _seam
from tests.support.kedro_projects import copy_example, kedro

if TYPE_CHECKING:
    from tests.support.aml_standin import AmlStandin

pytestmark = pytest.mark.slow

INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "kedro-env@latest"]
CLIENT_SECRET = "cl1ent~Secret.Value_0123456789"
SAS = "https://acct.blob.core.windows.net/c?sv=2022-11-02&sr=c&sig=AbCdEf0123456789AbCdEf0123%3D"
SUBSCRIPTION = str(uuid.UUID(int=7))
FIX = "Give a step a secret through Azure Key Vault"


@pytest.fixture
def project(small_project: Path) -> Path:
    kedro(small_project, *INIT)
    return small_project


def _files_holding(root: Path, secret: str) -> list[str]:
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and secret.encode() in path.read_bytes()
    )


@pytest.mark.parametrize(
    ("command", "refusal"),
    [
        (["compile"], "Not compiled"),
        (["compile", "-o", "-"], "Not compiled"),
        (["compile", "-o", "job.yaml", "--graph", "steps.html", "--explain"], "Not compiled"),
        (["run", "--local"], "Not compiled"),
        (["run", "--dry-run", "-s", SUBSCRIPTION], "Not submitted"),
    ],
    ids=["compile", "stdout", "graph", "run-local", "dry-run"],
)
def test_a_known_secret_in_env_var_is_refused_by_every_route(
    project: Path, command: list[str], refusal: str
) -> None:
    result = kedro(
        project,
        "azureml",
        *command,
        "--env-var",
        f"SP={CLIENT_SECRET}",
        check=False,
        AZURE_CLIENT_SECRET=CLIENT_SECRET,
    )

    message = " ".join(result.stderr.split())
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        f"{refusal}: these values would be written into the job definition sent to Azure ML"
    ) in message
    assert "- --env-var SP: the value of $AZURE_CLIENT_SECRET" in message
    assert FIX in message
    assert "Traceback" not in message
    assert CLIENT_SECRET not in result.stdout + result.stderr
    assert "jobs:" not in result.stdout  # no YAML on stdout
    assert _files_holding(project, CLIENT_SECRET) == []
    assert not (project / "steps.html").exists()


def test_a_secret_shaped_param_is_refused_without_any_variable_set(project: Path) -> None:
    params = json.dumps({"source": SAS})
    result = kedro(project, "azureml", "compile", "--params", params, check=False)

    message = " ".join(result.stderr.split())
    assert result.returncode == 1
    assert "- --params source: something shaped like an Azure SAS signature (sig=)" in message
    assert "sig=AbCdEf" not in result.stdout + result.stderr
    assert _files_holding(project, "sig=AbCdEf") == []
    # The same compile without the secret writes the job and caches it.
    kedro(project, "azureml", "compile", "--params", "source=public-data")
    assert list((project / ".kedro-azureml" / "compile-cache").glob("*.yaml"))


def test_schedule_refuses_a_secret_in_a_job_s_params(
    tmp_path: Path, aml_standin: AmlStandin
) -> None:
    example = copy_example(tmp_path)
    _point_at_standin(
        example,
        aml_standin,
        **{"model_options: {random_state: 7}": f"model_options: {{random_state: 7, sp: '{SAS}'}}"},
    )
    _ready(aml_standin)
    seam = _seam(aml_standin, tmp_path, "tests.support.credentials:FakeCredential")

    result = kedro(example, "azureml", "schedule", "--dry-run", check=False, **seam)

    message = " ".join(result.stderr.split())
    assert result.returncode == 1
    assert (
        "- --params data_science.active_modelling_pipeline.model_options.sp (or "
        "jobs.nightly.params in azureml.yml): something shaped like an Azure SAS signature"
    ) in message
    assert "sig=AbCdEf" not in result.stdout + result.stderr
    assert not [r for r in aml_standin.requests if r.method in ("PUT", "POST", "DELETE")]
    assert _files_holding(example, "sig=AbCdEf") == ["conf/base/azureml.yml"]


def test_a_given_yaml_holding_a_secret_is_not_run(project: Path) -> None:
    """`run --local --from-yaml` runs a YAML compiled elsewhere or edited by hand: its steps
    would get the secret in their environment and the run folder would keep a copy."""
    kedro(project, "azureml", "compile", "-o", "job.yaml")
    text = (project / "job.yaml").read_text()
    step = text.index("\n    type: command")
    edited = text[:step] + f"\n    environment_variables:\n      SP: {CLIENT_SECRET}" + text[step:]
    (project / "job.yaml").write_text(edited)

    result = kedro(
        project,
        "azureml",
        "run",
        "--local",
        "--from-yaml",
        "job.yaml",
        check=False,
        AZURE_CLIENT_SECRET=CLIENT_SECRET,
    )

    message = " ".join(result.stderr.split())
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Not run: job.yaml holds values that every step would get" in message
    assert "(SP): the value of $AZURE_CLIENT_SECRET" in message
    assert FIX in message
    assert "Traceback" not in message
    assert CLIENT_SECRET not in result.stdout + result.stderr
    assert _files_holding(project, CLIENT_SECRET) == ["job.yaml"]


@pytest.mark.parametrize(
    ("option", "label"),
    [
        (["--env-var", f"DB={CLIENT_SECRET}"], "--env-var DB"),
        (["--params", f"db_password={CLIENT_SECRET}"], "--params db_password"),
    ],
    ids=["env-var", "params"],
)
def test_a_value_of_the_projects_credentials_is_refused(
    project: Path, option: list[str], label: str
) -> None:
    """Kedro keeps a project's secrets in credentials.yml, most often in conf/local, which the
    base env compiled with never reads: its values are known secrets all the same."""
    (project / "conf/local/credentials.yml").write_text(
        "warehouse:\n  host: db.example.com\n  container: my-container-name\n"
        f"  password: {CLIENT_SECRET}\n"
    )

    refused = kedro(project, "azureml", "compile", *option, check=False)
    allowed = kedro(
        project,
        "azureml",
        "compile",
        "--env-var",
        "HOST=db.example.com",
        "--env-var",
        "C=my-container-name",
    )

    message = " ".join(refused.stderr.split())
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Not compiled" in message
    assert f"- {label}: the value of credentials entry warehouse.password" in message
    assert CLIENT_SECRET not in refused.stdout + refused.stderr
    assert _files_holding(project, CLIENT_SECRET) == ["conf/local/credentials.yml"]
    compiled = (project / "pipeline.yaml").read_text()
    assert "HOST: db.example.com" in compiled, allowed.stdout
    assert "C: my-container-name" in compiled
