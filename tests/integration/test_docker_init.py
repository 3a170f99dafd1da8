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
