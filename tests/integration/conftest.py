from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.kedro_projects import new_project, write_small_pipeline


@pytest.fixture(scope="session")
def project_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_project(tmp_path_factory.mktemp("template"))


@pytest.fixture
def blank_project(project_template: Path, tmp_path: Path) -> Path:
    """A fresh `kedro new` project, untouched."""
    return Path(shutil.copytree(project_template, tmp_path / "demo"))


@pytest.fixture
def small_project(blank_project: Path) -> Path:
    """A `kedro new` project with a 4-node pipeline over a raw CSV, a CSV and memory data."""
    write_small_pipeline(blank_project)
    return blank_project
