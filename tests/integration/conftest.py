"""Fixtures of the integration tests, and their marker.

Every test under tests/integration/ gets the ``integration`` marker: ``make unit`` (and
``pytest -m "not integration"``) leaves them out. They may spawn processes, start Azurite,
use torch and make real ``kedro new`` projects; tests/unit/ may not.

* ``azurite`` (session): a running ``tests.support.azurite.AzuriteBlob``; errors if it can't start.
* ``aml_standin`` (function): the session's ``tests.support.aml_standin.AmlStandin``, reset (no
  requests, computes, environments, jobs) before each test. Restores ``AZUREML_CURRENT_CLOUD``
  (which ``MLClient`` sets) after the test.
* ``ml_client`` (function): a real ``MLClient`` pointed at ``aml_standin``.
* ``fast_stream_polling`` (function): makes ``jobs.stream`` poll without its 2 s minimum wait.
* ``project_template`` (session), ``blank_project``, ``small_project``: `kedro new` projects.

The heavy ``azure.ai.ml`` import happens only in the fixtures that need it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.kedro_projects import new_project, write_small_pipeline

if TYPE_CHECKING:
    from azure.ai.ml import MLClient

    from tests.support.aml_standin import AmlStandin
    from tests.support.azurite import AzuriteBlob

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # This hook sees every collected item of the session, not only this folder's.
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteBlob]:
    from tests.support.azurite import AzuriteBlob

    with AzuriteBlob(tmp_path_factory.mktemp("azurite")) as blob:
        yield blob


@pytest.fixture(scope="session")
def aml_standin_session(azurite: AzuriteBlob) -> Iterator[AmlStandin]:
    from tests.support.aml_standin import AmlStandin

    with AmlStandin(azurite=azurite) as standin:
        yield standin


@pytest.fixture
def aml_standin(
    aml_standin_session: AmlStandin, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AmlStandin]:
    aml_standin_session.reset()
    monkeypatch.delenv("AZUREML_CURRENT_CLOUD", raising=False)
    yield aml_standin_session
    aml_standin_session.reset()


@pytest.fixture
def ml_client(aml_standin: AmlStandin) -> MLClient:
    from tests.support.credentials import make_ml_client

    client: MLClient = make_ml_client(aml_standin)
    return client


@pytest.fixture
def fast_stream_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.ai.ml.operations._run_history_constants import RunHistoryConstants

    monkeypatch.setattr(RunHistoryConstants, "_WAIT_COMPLETION_POLLING_INTERVAL_MIN", 0)


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
