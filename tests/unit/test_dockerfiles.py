from __future__ import annotations

from pathlib import Path

import pytest

from kedro_azureml.errors import KedroAzureMLError
from kedro_azureml.project.dockerfiles import (
    render_docker_files,
    requirements_path,
    write_docker_files,
)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_code_upload_flow_installs_only_the_requirements() -> None:
    files = render_docker_files(
        "code-upload", requirements="src/requirements.txt", base_image="python:3.11"
    )

    assert _lines(files["Dockerfile"]) == [
        "ARG BASE_IMAGE=python:3.11",
        "FROM $BASE_IMAGE",
        "COPY src/requirements.txt /tmp/requirements.txt",
        "RUN pip install --no-cache-dir -r /tmp/requirements.txt && rm -f /tmp/requirements.txt",
    ]
    assert _lines(files[".dockerignore"]) == ["*", "!src/requirements.txt"]


def test_image_flow_copies_the_project_into_the_working_directory() -> None:
    files = render_docker_files("image", requirements="requirements.txt", base_image="python:3.11")

    dockerfile = _lines(files["Dockerfile"])
    assert dockerfile[:2] == [
        "ARG BASE_IMAGE=python:3.11",
        "FROM $BASE_IMAGE AS runtime-environment",
    ]
    assert "COPY requirements.txt /tmp/requirements.txt" in dockerfile
    assert "WORKDIR /home/kedro_docker" in dockerfile
    assert "useradd -m -d /home/kedro_docker" in files["Dockerfile"]
    assert dockerfile.index("USER kedro_docker") < dockerfile.index(
        "COPY --chown=${KEDRO_UID}:${KEDRO_GID} . ."
    )
    ignore = _lines(files[".dockerignore"])
    assert ignore.index("data") < ignore.index("!data/01_raw")
    assert {"conf/local", "**/*credentials*", ".env", ".git", ".venv", ".kedro-azureml"} <= set(
        ignore
    )


def test_image_flow_working_directory_is_configurable() -> None:
    files = render_docker_files("image", requirements="requirements.txt", working_directory="/app")
    assert "WORKDIR /app" in files["Dockerfile"]
    assert "FROM $BASE_IMAGE AS runtime-environment" in files["Dockerfile"]
    assert "ARG BASE_IMAGE=python:3." in files["Dockerfile"]


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        (["requirements.txt", "src/requirements.txt"], "requirements.txt"),
        (["src/requirements.txt"], "src/requirements.txt"),
    ],
    ids=["root-first", "src-layout"],
)
def test_requirements_path(tmp_path: Path, present: list[str], expected: str) -> None:
    for rel in present:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("kedro\n")
    assert requirements_path(tmp_path) == expected


def test_no_requirements_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KedroAzureMLError, match=r"No requirements.txt or src/requirements.txt"):
        requirements_path(tmp_path)


def test_unknown_flow_is_an_error() -> None:
    with pytest.raises(KedroAzureMLError, match="Unknown flow 'docker'"):
        render_docker_files("docker", requirements="requirements.txt")


def test_existing_files_are_kept_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("kedro\n")
    (tmp_path / ".dockerignore").write_text("mine\n")

    with pytest.raises(KedroAzureMLError, match=r"\.dockerignore already exist\(s\).*--force"):
        write_docker_files(tmp_path, "image")
    assert not (tmp_path / "Dockerfile").exists()
    assert (tmp_path / ".dockerignore").read_text() == "mine\n"

    written = write_docker_files(tmp_path, "image", force=True)
    assert [p.name for p in written] == ["Dockerfile", ".dockerignore"]
    assert "!data/01_raw" in (tmp_path / ".dockerignore").read_text()
