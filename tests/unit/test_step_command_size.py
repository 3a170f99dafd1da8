"""A step's command stays short whatever the pipeline's size, or compile says why it cannot.

Before, every node of a step was one ``--node X`` option: a namespace of 2800 nodes gave a
131,681-byte command, over Linux's 128 KiB for one argument (`bash -c <command>`), so
`run --local` failed with "Argument list too long" and Azure ML would have got it as is.
"""

from __future__ import annotations

import shlex
from typing import Any

import pytest
from click.testing import CliRunner
from kedro.pipeline import Pipeline, node

from kedro_azureml.cli import commands, execute
from kedro_azureml.compiler.compile import plan_pipeline
from kedro_azureml.compiler.plan import StepPlan
from kedro_azureml.compiler.render import (
    MAX_COMMAND_BYTES,
    CompileOptions,
    join_command,
    step_command,
)
from kedro_azureml.config import parse_config
from kedro_azureml.contract.node_selection import NAMES_BUDGET, decode_node_selection
from kedro_azureml.errors import CompileError
from tests.support.properties import MINIMAL_CONFIG

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _f(*args: Any) -> int:
    return 1


def _chain(length: int) -> Pipeline:
    nodes = [
        node(
            _f,
            "raw" if i == 0 else f"d{i - 1}",
            f"d{i}",
            name=f"transform_step_{i:04d}",
            namespace="feature_engineering",
        )
        for i in range(length)
    ]
    return Pipeline([*nodes, node(_f, f"d{length - 1}", "out", name="report")])


def _catalog(dataset: str) -> dict[str, Any] | None:
    return {"type": "pandas.CSVDataset", "filepath": "data/raw.csv"} if dataset == "raw" else None


def _commands(pipeline: Pipeline, options: CompileOptions) -> dict[str, str]:
    """Each step's command exactly as render_job writes it."""
    plan = plan_pipeline(
        pipeline, parse_config(MINIMAL_CONFIG), options, _catalog, grouping="namespace"
    )
    every_node = [name for step in plan.steps for name in step.node_names]
    return {step.name: join_command(step_command(step, options, every_node)) for step in plan.steps}


def test_a_namespace_of_2800_nodes_has_a_short_command() -> None:
    pipeline = _chain(2800)
    commands_ = _commands(pipeline, CompileOptions())
    command = commands_["feature_engineering"]
    assert len(command) < 200  # was 131,681 bytes
    argv = shlex.split(command)
    assert "--node" not in argv
    reference = argv[argv.index("--nodes") + 1]
    names = decode_node_selection("__default__", (n.name for n in pipeline.nodes), reference)
    assert names == sorted(n.name for n in pipeline.nodes if n.namespace == "feature_engineering")
    assert len(names) == 2800
    assert commands_["report"].startswith(
        "kedro azureml execute --pipeline __default__ --node report "
    )


def test_a_small_step_keeps_readable_node_names() -> None:
    command = _commands(_chain(20), CompileOptions())["feature_engineering"]
    assert command.count("--node feature_engineering.transform_step_") == 20
    assert "--nodes" not in command


def test_node_names_switch_to_a_reference_above_the_budget() -> None:
    names = [f"n{i:05d}" for i in range(2000)]
    step = StepPlan("s", tuple(names), {}, {}, "__default__")
    longest_readable = next(
        count
        for count in range(1, len(names))
        if len(join_command([t for n in names[: count + 1] for t in ("--node", n)])) > NAMES_BUDGET
    )
    within = StepPlan("s", tuple(names[:longest_readable]), {}, {}, "__default__")
    assert "--nodes" not in step_command(within, CompileOptions(), names)
    assert "--nodes" in step_command(step, CompileOptions(), names)
    # Without the pipeline's node list (a caller of the old signature) names are kept.
    assert "--nodes" not in step_command(step, CompileOptions())


def _fan_in(width: int) -> StepPlan:
    return StepPlan(
        "combine",
        ("combine",),
        {f"part_{i:04d}": f"part_{i:04d}" for i in range(width)},
        {"combined": "combined"},
        "__default__",
    )


def test_thousands_of_crossing_inputs_are_refused_with_what_to_do() -> None:
    with pytest.raises(CompileError) as error:
        step_command(_fan_in(3000), CompileOptions())
    assert str(error.value) == (
        "Step 'combine' would run a command of about 594 KiB, and a step's command must stay "
        "under 96 KiB (Linux refuses an argument over 128 KiB, so neither Azure ML nor run "
        "--local could start it): 3000 datasets cross into it and 1 out of it, each an input "
        "or output folder on the command line. Group the pipeline so that fewer datasets cross "
        "this step's boundary (e.g. put the nodes that make its inputs into its namespace, or "
        "use --group-by tag with group.<name> tags), or pass fewer, larger datasets (e.g. one "
        "dict or PartitionedDataset instead of thousands)."
    )


def test_a_few_hundred_crossing_inputs_still_compile() -> None:
    command = join_command(step_command(_fan_in(300), CompileOptions()))
    assert command.count("--az-input ") == 300
    assert len(command) < MAX_COMMAND_BYTES


def test_huge_params_are_refused_with_their_own_advice() -> None:
    options = CompileOptions(params={"blob": "x" * 200_000})
    with pytest.raises(CompileError, match=r"--params takes 195 KiB of it\. Pass fewer"):
        step_command(_fan_in(1), options)


@pytest.mark.parametrize(
    "args",
    [["--pipeline", "p"], ["--node", "a", "--nodes", "0123:eJwDAAAAAAE"]],
    ids=["neither", "both"],
)
def test_execute_takes_node_names_or_a_reference(args: list[str]) -> None:
    result = CliRunner().invoke(commands, ["azureml", "execute", *args])
    assert result.exit_code == 2
    assert "Give the step's nodes as --node NAME (repeated) or --nodes REF." in result.output


def test_execute_parses_a_reference() -> None:
    parsed = execute.make_context("execute", ["--nodes", "abc:def"]).params
    assert parsed["node_selection"] == "abc:def"
    assert parsed["nodes"] == ()
