"""run --local steps start from an allowlisted environment, as Azure ML steps start from none."""

from __future__ import annotations

from pathlib import Path

import pytest

from kedro_azureml.local.runner import STEP_ENV_ALLOWLIST
from kedro_azureml.step.serialization import load_object
from tests.support.kedro_projects import kedro, last_run

pytestmark = pytest.mark.slow

INIT = ["azureml", "init", "rg", "ws", "exp", "cpu-cluster", "kedro-env@latest"]
MACHINE_SECRETS = {
    "AZURE_STORAGE_KEY": "az-cli-storage-key-0123456789",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "ARM_CLIENT_SECRET": "terraform-client-secret-0123",
    "GITHUB_TOKEN": "ghp_" + "Ab1" * 12,
    "AZURE_OPENAI_API_KEY": "openai-key-0123456789abcdef",
    "MLFLOW_TRACKING_PASSWORD": "mlflow-password-0123",
    "AZURE_CLIENT_SECRET": "sp-secret-0123456789",
    "SOME_OTHER_TOOL_SETTING": "not-a-secret-but-not-azure-either",
}


def test_machine_secrets_do_not_reach_a_step(small_project: Path) -> None:
    kedro(small_project, *INIT)

    kedro(
        small_project,
        *("azureml", "run", "--local", "-p", "env"),
        *("--env-var", "FROM_THE_JOB=yes"),
        LC_ALL="C.UTF-8",
        HTTPS_PROXY="http://proxy.local:3128",
        PYTHONPATH="/somewhere/else",
        **MACHINE_SECRETS,
    )

    env = load_object(str(last_run(small_project) / "outputs" / "env_seen"))
    assert not set(MACHINE_SECRETS) & set(env), sorted(set(MACHINE_SECRETS) & set(env))
    for value in MACHINE_SECRETS.values():
        assert value not in "\n".join(env.values())
    # Kedro puts the snapshot's src/ on PYTHONPATH itself; the runner's own path stays out.
    assert "/somewhere/else" not in env.get("PYTHONPATH", "")
    # The job's own variables, the runner's, and the documented allowlist do.
    assert env["FROM_THE_JOB"] == "yes"
    assert "MLFLOW_RUN_ID" in env
    assert env["LC_ALL"] == "C.UTF-8"
    assert env["HTTPS_PROXY"] == "http://proxy.local:3128"
    assert env["KEDRO_DISABLE_TELEMETRY"] == "true"
    assert env["PATH"].split(":")[0].endswith("/bin") and env["HOME"]
    allowed = {*STEP_ENV_ALLOWLIST, "FROM_THE_JOB"}
    # Besides those, only what the runner, bash, Python or Kedro set themselves.
    extra = {
        key
        for key in env
        if key not in allowed
        and not key.startswith(("LC_", "MLFLOW_", "KEDRO_", "AZUREML_", "PYTHON"))
        and key not in ("PWD", "SHLVL", "_", "OLDPWD")
    }
    assert extra == set(), sorted(extra)
