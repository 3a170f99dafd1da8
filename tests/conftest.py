"""Shared fixtures: Azurite and the local Azure ML REST stand-in (see ``tests/support/``).

* ``azurite`` (session): a running ``tests.support.azurite.AzuriteBlob``; errors if it can't start.
* ``aml_standin`` (function): the session's ``tests.support.aml_standin.AmlStandin``, reset (no
  requests, computes, environments, jobs) before each test. Restores ``AZUREML_CURRENT_CLOUD``
  (which ``MLClient`` sets) after the test.
* ``ml_client`` (function): a real ``MLClient`` pointed at ``aml_standin``.
* ``fast_stream_polling`` (function): makes ``jobs.stream`` poll without its 2 s minimum wait.

The heavy ``azure.ai.ml`` import happens only in the fixtures that need it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from azure.ai.ml import MLClient

    from tests.support.aml_standin import AmlStandin
    from tests.support.azurite import AzuriteBlob


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
