"""`kedro azureml docker-init` in a real project, as a user runs it (no Docker engine needed)."""

from __future__ import annotations

from pathlib import Path

from tests.support.kedro_projects import kedro


def test_docker_init_writes_both_flows_and_refuses_to_overwrite(blank_project: Path) -> None:
    result = kedro(
        blank_project,
        "azureml",
        "docker-init",
        "--flow",
        "code-upload",
        "--base-image",
        "python:3.9",
    )

    assert "Wrote" in result.stdout and "az ml environment create" in result.stdout
    dockerfile = (blank_project / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=python:3.9" in dockerfile
    assert "COPY requirements.txt /tmp/requirements.txt" in dockerfile
    assert "COPY . ." not in dockerfile and "WORKDIR" not in dockerfile
    assert (blank_project / ".dockerignore").read_text().splitlines()[-2:] == [
        "*",
        "!requirements.txt",
    ]

    again = kedro(blank_project, "azureml", "docker-init", "--flow", "image", check=False)
    assert again.returncode == 1
    assert "Dockerfile and .dockerignore already exist(s)" in again.stderr
    assert (blank_project / "Dockerfile").read_text() == dockerfile

    kedro(blank_project, "azureml", "docker-init", "--flow", "image", "--force")
    image = (blank_project / "Dockerfile").read_text()
    assert "WORKDIR /home/kedro_docker" in image
    assert "COPY --chown=${KEDRO_UID}:${KEDRO_GID} . ." in image
    assert "!data/01_raw" in (blank_project / ".dockerignore").read_text().splitlines()


def test_docker_init_warns_when_the_requirements_name_the_original_plugin(
    blank_project: Path,
) -> None:
    requirements = blank_project / "requirements.txt"
    requirements.write_text(requirements.read_text() + "kedro-azureml>=0.8\n")

    result = kedro(blank_project, "azureml", "docker-init")

    assert " ".join(result.stderr.split()) == (
        "Warning: requirements.txt names kedro-azureml, the original plugin, so the image would "
        "run its steps, not this plugin's: replace it with kedro-azureml-next (same import name, "
        "same commands) and rebuild the image."
    )
    assert (
        "# (requirements.txt names kedro-azureml-next" in (blank_project / "Dockerfile").read_text()
    )
