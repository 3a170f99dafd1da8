"""``kedro azureml docker-init``: a Dockerfile and .dockerignore for either flow, no Docker needed.

* ``code-upload``: the image holds only the project's requirements; Azure ML mounts the
  uploaded code at run time. Register the image as the environment in azureml.yml.
* ``image``: the project is copied into the image at ``working_directory``
  (``/home/kedro_docker``, kedro-docker's layout), where every step ``cd``s.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from string import Template

from kedro_azureml.atomic import write_text_atomically
from kedro_azureml.config import DEFAULT_WORKING_DIRECTORY
from kedro_azureml.errors import KedroAzureMLError

FLOWS = ("code-upload", "image")
FILES = {"Dockerfile": "Dockerfile.{flow}.tmpl", ".dockerignore": "dockerignore.{flow}.tmpl"}

NEXT_STEPS = {
    "code-upload": (
        "Next: docker build -t <registry>.azurecr.io/<image>:<tag> . && docker push ..., then "
        "`az ml environment create --name <environment-name> --image <that image>` and set "
        "azure.environment_name: <environment-name>@latest in azureml.yml."
    ),
    "image": (
        "Next: docker build -t <registry>.azurecr.io/<image>:<tag> . && docker push ..., then "
        "set code_directory: ~ and docker.image: <that image> in azureml.yml "
        "(rebuild and push after every code change)."
    ),
}


def default_base_image() -> str:
    return f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"


def requirements_path(project_path: Path) -> str:
    """Kedro 1.x keeps requirements.txt at the root; older projects in src/."""
    for candidate in ("requirements.txt", "src/requirements.txt"):
        if (project_path / candidate).is_file():
            return candidate
    raise KedroAzureMLError(
        f"No requirements.txt or src/requirements.txt in {project_path}: the image installs the "
        "project's requirements from it (add kedro-azureml-next to it too)."
    )


def render_docker_files(
    flow: str,
    *,
    requirements: str,
    base_image: str | None = None,
    working_directory: str = DEFAULT_WORKING_DIRECTORY,
    extra_packages: tuple[str, ...] = (),
) -> dict[str, str]:
    """``{"Dockerfile": text, ".dockerignore": text}`` for ``flow``.

    ``extra_packages`` are installed in the same pip command as the requirements, so pip
    resolves them together.
    """
    if flow not in FLOWS:
        raise KedroAzureMLError(f"Unknown flow '{flow}'; use one of {', '.join(FLOWS)}.")
    values = {
        "base_image": base_image or default_base_image(),
        "requirements": requirements,
        "working_directory": working_directory,
        "install_extra": "".join(f" {package}" for package in extra_packages),
        "install_note": (
            f", and {', '.join(extra_packages)}, which {requirements} does not name: MLflow "
            "reaches Azure ML's tracking store (azureml://...) only through azureml-mlflow"
            if extra_packages
            else ""
        ),
    }
    templates = resources.files("kedro_azureml").joinpath("templates")
    return {
        name: Template(templates.joinpath(template.format(flow=flow)).read_text()).substitute(
            values
        )
        for name, template in FILES.items()
    }


def write_docker_files(
    project_path: Path,
    flow: str,
    *,
    force: bool = False,
    base_image: str | None = None,
    working_directory: str | None = None,
) -> list[Path]:
    """Write both files, or none: an existing one is kept unless ``force``."""
    existing = [name for name in FILES if (project_path / name).exists()]
    if existing and not force:
        raise KedroAzureMLError(
            f"{' and '.join(existing)} already exist(s) in {project_path}; pass --force to "
            "overwrite."
        )
    requirements = requirements_path(project_path)
    texts = render_docker_files(
        flow,
        requirements=requirements,
        base_image=base_image,
        working_directory=working_directory or DEFAULT_WORKING_DIRECTORY,
        extra_packages=tracking_packages_for_image(project_path, requirements),
    )
    return [write_text_atomically(project_path / name, text) for name, text in texts.items()]


def original_plugin_warning(project_path: Path) -> str | None:
    """A warning when the image's requirements install the original plugin (GetInData's
    kedro-azureml): every step runs ``kedro azureml execute``, which would then be its."""
    from kedro_azureml.project.requirements import ORIGINAL_PLUGIN, PLUGIN, declared_requirements

    requirements = requirements_path(project_path)
    if not declared_requirements(project_path, [requirements]).names(ORIGINAL_PLUGIN):
        return None
    return (
        f"{requirements} names {ORIGINAL_PLUGIN}, the original plugin, so the image would run "
        f"its steps, not this plugin's: replace it with {PLUGIN} (same import name, same "
        "commands) and rebuild the image."
    )


def tracking_packages_for_image(project_path: Path, requirements: str) -> tuple[str, ...]:
    """``("azureml-mlflow",)`` when the project tracks with MLflow and ``requirements`` lacks it.

    In Azure ML steps MLFLOW_TRACKING_URI is the workspace's (azureml://...): MLflow, kedro-mlflow
    and kedro-azureml's own run handling all need the azureml-mlflow plugin to reach it.
    """
    from kedro_azureml.project.requirements import (
        AZUREML_MLFLOW,
        declared_requirements,
        kedro_mlflow_evidence,
    )

    declared = declared_requirements(project_path, [requirements])
    if declared.names(AZUREML_MLFLOW):
        return ()
    uses_mlflow = any(declared.names(name) for name in ("mlflow", "mlflow-skinny"))
    conf = project_path / "conf"
    conf_dirs = sorted(path for path in conf.iterdir() if path.is_dir()) if conf.is_dir() else []
    if uses_mlflow or kedro_mlflow_evidence(conf_dirs, declared):
        return (AZUREML_MLFLOW,)
    return ()
