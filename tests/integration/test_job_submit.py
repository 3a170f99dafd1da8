"""Named jobs against the HTTPS stand-in of Azure ML, through the real SDK: `run -j` sends the
job's settings, `run --dry-run` creates nothing, `schedule` creates and manages schedules.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.integration.test_submit import _job_put, _point_at_standin, _ready, _seam
from tests.support.kedro_projects import copy_example, kedro

if TYPE_CHECKING:
    from tests.support.aml_standin import AmlStandin

pytestmark = pytest.mark.slow

TEST_SIZE = "data_science_active_modelling_pipeline_model_options_test_size"


@pytest.fixture
def seam(aml_standin: AmlStandin, tmp_path: Path) -> dict[str, str]:
    return _seam(aml_standin, tmp_path, "tests.support.credentials:FakeCredential")


@pytest.fixture
def example(tmp_path: Path, aml_standin: AmlStandin) -> Path:
    project = copy_example(tmp_path)
    _point_at_standin(project, aml_standin)
    return project


def _changing(standin: AmlStandin) -> list[str]:
    return [r.call for r in standin.requests if r.method in ("PUT", "POST", "DELETE", "PATCH")]


def test_run_job_sends_its_settings_overrides_and_inputs(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    _ready(aml_standin)
    kedro(
        example,
        "azureml",
        "run",
        "-j",
        "nightly",
        "--tag",
        "run=manual",
        "--input",
        "data_science.active_modelling_pipeline.model_options.test_size=0.3",
        **seam,
    )
    props = _job_put(aml_standin).body["properties"]
    assert props["experimentName"] == "spaceflights-nightly"
    assert props["displayName"] == "spaceflights nightly training"
    assert props["description"] == "Retrain and evaluate the price model on the latest data"
    assert {"team": "data-science", "run": "manual", "kedro_job": "nightly"}.items() <= props[
        "tags"
    ].items()
    assert props["inputs"][TEST_SIZE] == {"value": "0.3", "jobInputType": "literal"}
    steps = props["jobs"]
    assert {step["limits"]["timeout"] for step in steps.values()} == {"PT1H"}
    reading = [name for name, step in steps.items() if TEST_SIZE in (step.get("inputs") or {})]
    assert len(reading) == 1  # only the step that splits the data reads model_options
    assert steps[reading[0]]["inputs"][TEST_SIZE]["value"] == f"${{{{parent.inputs.{TEST_SIZE}}}}}"


def test_dry_run_checks_and_compiles_but_creates_nothing(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    _ready(aml_standin)
    result = kedro(example, "azureml", "run", "-j", "nightly", "--dry-run", **seam)

    assert _changing(aml_standin) == []
    calls = aml_standin.calls()
    # Signed in and checked the workspace as `run` does.
    assert {"GET {ws}/computes/cpu-cluster", "GET {ws}/computes/cpu-cluster-8"} <= set(calls)
    assert any(c.startswith("GET {ws}/environments/kedro-spaceflights") for c in calls)
    output = " ".join(result.stdout.split())
    assert "Dry run: every check passed; nothing was created, uploaded or registered." in output
    assert "Would upload the code:" in output
    assert (
        "Would create job 'spaceflights nightly training' in experiment spaceflights-nightly "
        "with 3 steps:" in output
    )
    assert f"input {TEST_SIZE} = 0.2" in output
    assert aml_standin.pending_uploads == []


def test_dry_run_stops_at_the_same_checks_as_run(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    aml_standin.add_environment("kedro-spaceflights", "1")  # no compute clusters
    result = kedro(example, "azureml", "run", "--dry-run", check=False, **seam)
    assert result.returncode == 1
    assert "Compute cluster 'cpu-cluster' (azure.compute.__default__) does not exist" in " ".join(
        result.stderr.split()
    )
    assert _changing(aml_standin) == []


def _schedule_puts(standin: AmlStandin) -> list[str]:
    return [r.rel for r in standin.find("PUT", r"^\{ws\}/schedules/")]


def test_schedule_creates_once_lists_and_prunes(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    _ready(aml_standin)
    first = kedro(example, "azureml", "schedule", "-j", "nightly", **seam)

    assert _schedule_puts(aml_standin) == ["{ws}/schedules/spaceflights-nightly"]
    body = aml_standin.find("PUT", r"^\{ws\}/schedules/")[0].body["properties"]
    assert body["trigger"]["triggerType"] == "Cron"
    assert body["trigger"]["expression"] == "0 2 * * *"
    assert body["trigger"]["timeZone"] == "W. Europe Standard Time"  # from Europe/Amsterdam
    assert body["tags"]["kedro_project"] == "spaceflights"
    assert body["tags"]["kedro_job"] == "nightly"
    definition = body["action"]["jobDefinition"]
    assert definition["experimentName"] == "spaceflights-nightly"
    assert definition["inputs"][TEST_SIZE] == {"value": "0.2", "jobInputType": "literal"}
    assert {s["limits"]["timeout"] for s in definition["jobs"].values()} == {"PT1H"}
    assert "Schedule spaceflights-nightly (job nightly): created" in first.stdout

    # A second call changes nothing: no upload, no component, no schedule written.
    before = len(aml_standin.requests)
    again = kedro(example, "azureml", "schedule", **seam)
    assert [r.call for r in aml_standin.requests[before:] if r.method != "GET"] == []
    assert "spaceflights-nightly (job nightly, cron 0 2 * * *): unchanged" in again.stdout

    listed = kedro(example, "azureml", "schedule", "list", **seam).stdout
    row = next(line for line in listed.splitlines() if "spaceflights-nightly" in line)
    assert "nightly" in row and "yes" in row and "cron 0 2 * * *" in row
    assert "W. Europe Standard Time" in row and " 02:00" in row  # the next run, at 02:00

    kedro(example, "azureml", "schedule", "disable", "spaceflights-nightly", **seam)
    assert aml_standin.schedules["spaceflights-nightly"]["properties"]["isEnabled"] is False
    listed = kedro(example, "azureml", "schedule", "list", **seam).stdout
    assert " no " in next(line for line in listed.splitlines() if "spaceflights-nightly" in line)
    kedro(example, "azureml", "schedule", "enable", "spaceflights-nightly", **seam)
    assert aml_standin.schedules["spaceflights-nightly"]["properties"]["isEnabled"] is True

    # Once the job is gone from azureml.yml, --prune deletes its schedule.
    config = example / "conf" / "base" / "azureml.yml"
    config.write_text(config.read_text().split("# Named production jobs")[0])
    pruned = kedro(example, "azureml", "schedule", "--prune", **seam)
    assert aml_standin.find("DELETE", r"^\{ws\}/schedules/spaceflights-nightly$")
    assert aml_standin.schedules == {}
    assert "Schedule spaceflights-nightly (job nightly): deleted" in pruned.stdout


def test_schedule_dry_run_creates_nothing(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    _ready(aml_standin)
    result = kedro(example, "azureml", "schedule", "--dry-run", **seam)
    assert _changing(aml_standin) == []
    assert "spaceflights-nightly (job nightly, cron 0 2 * * *): would be created" in result.stdout


def test_a_job_without_schedule_cannot_be_scheduled(
    example: Path, aml_standin: AmlStandin, seam: dict[str, str]
) -> None:
    config = example / "conf" / "base" / "azureml.yml"
    config.write_text(config.read_text() + "  adhoc: {}\n")
    result = kedro(example, "azureml", "schedule", "-j", "adhoc", check=False, **seam)
    assert result.returncode == 1
    assert "Job 'adhoc' has no schedule: add jobs.adhoc.schedule to azureml.yml" in " ".join(
        result.stderr.split()
    )
    assert aml_standin.requests == []
