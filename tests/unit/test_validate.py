"""validate_job's own checks: they never fire for a plan the compiler built (the other tests
compile hundreds), so each is shown here to fire on a job or plan broken by hand."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from kedro.pipeline import node, pipeline

from kedro_azureml.compiler.compile import compile_pipeline
from kedro_azureml.compiler.plan import JobPlan
from kedro_azureml.compiler.render import CompileOptions, render_job
from kedro_azureml.compiler.validate import validate_job
from kedro_azureml.config import parse_config
from kedro_azureml.errors import CompileError

CONFIG = parse_config(
    {
        "azure": {
            "resource_group": "rg",
            "workspace_name": "ws",
            "experiment_name": "exp",
            "compute": {"__default__": {"cluster_name": "cpu"}},
            "environment_name": "env@latest",
        }
    }
)
CATALOG = {"raw": {"type": "pandas.CSVDataset", "filepath": "data/raw.csv"}}
OPTIONS = CompileOptions(code=".")


def _f(value: Any) -> Any:
    return value


def _compiled() -> tuple[JobPlan, Any]:
    pipe = pipeline([node(_f, "raw", "a", name="first"), node(_f, "a", "b", name="second")])
    # Two steps, so that a hand-made break between them has something to break.
    return compile_pipeline(pipe, CONFIG, OPTIONS, CATALOG.get, grouping="none")


def _drop_a_step(plan: JobPlan, job: Any) -> None:
    job.jobs.pop("second")


def _use_an_undeclared_input(plan: JobPlan, job: Any) -> None:
    job.jobs["second"].command += " ${{inputs.nope}}"


def _bind_to_a_missing_step(plan: JobPlan, job: Any) -> None:
    job.jobs["second"].inputs["a"] = "${{parent.jobs.nowhere.outputs.x}}"


def _bind_an_undeclared_job_output(plan: JobPlan, job: Any) -> None:
    job.jobs["second"].outputs["b"] = "${{parent.outputs.nope}}"


def _remove_every_compute(plan: JobPlan, job: Any) -> None:
    job.compute = None
    for step in job.jobs.values():
        step.compute = None


@pytest.mark.parametrize(
    ("breaker", "message"),
    [
        (_drop_a_step, "The compiled job's steps differ from the plan's"),
        (_use_an_undeclared_input, r"Step 'second' uses \$\{\{inputs\.nope\}\} undeclared"),
        (_bind_to_a_missing_step, "Step 'second' input 'a' is bound to no step output"),
        (_bind_an_undeclared_job_output, "Step 'second' output 'b' binds an undeclared job output"),
        (_remove_every_compute, "Step 'first' has no compute"),
    ],
    ids=lambda value: getattr(value, "__name__", "")[1:] or None,
)
def test_a_job_broken_by_hand_is_refused(
    breaker: Callable[[JobPlan, Any], None], message: str
) -> None:
    plan, job = _compiled()
    validate_job(job, plan)  # as compiled: valid
    breaker(plan, job)
    with pytest.raises(CompileError, match=message):
        validate_job(job, plan)


@pytest.mark.parametrize(
    ("index", "change", "message"),
    [
        (0, {"name": "Bad-Step"}, "Step 'Bad-Step': 'Bad-Step' is not a valid Azure ML name"),
        (
            1,
            {"inputs": {"a": "Bad-Port"}},
            "Step 'second': 'Bad-Port' is not a valid Azure ML name",
        ),
    ],
    ids=["step-name", "port-name"],
)
def test_a_plan_with_names_azure_ml_refuses_is_refused(
    index: int, change: dict[str, Any], message: str
) -> None:
    plan, _ = _compiled()
    plan.steps[index] = dataclasses.replace(plan.steps[index], **change)
    with pytest.raises(CompileError, match=message):
        render_job(plan, CONFIG, OPTIONS)
