"""Compile work grows linearly with nodes + edges, whatever the pipeline's shape.

Measured as the number of Python function calls (deterministic, unlike time): doubling a
pipeline must about double them. A cost quadratic in one node's inputs (the SDK compares
every pair of a node's input names, and checks each input by rebuilding all of them) makes
a 5000-input fan-in take a minute; here it shows as a ratio near 4.
"""

from __future__ import annotations

import cProfile
import pstats
import random
from typing import Any

import pytest
from kedro.pipeline import node, pipeline

from kedro_azureml.compiler.compile import compile_pipeline, job_yaml
from kedro_azureml.compiler.grouping import group_nodes
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.config import parse_config

CONFIG = parse_config(
    {
        "azure": {
            "resource_group": "rg",
            "workspace_name": "ws",
            "experiment_name": "exp",
            "compute": {"__default__": {"cluster_name": "cpu"}},
            "environment_name": "kedro-env@latest",
        }
    }
)
CATALOG = {"raw": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/raw.csv"}}


def _one(value: Any) -> Any:
    return value


def _total(*values: Any) -> Any:
    return values


def _shape(kind: str, count: int) -> Any:
    if kind == "fan-in":
        parts = [node(_one, "raw", f"part_{i}", name=f"part_{i}") for i in range(count - 1)]
        return pipeline([*parts, node(_total, [f"part_{i}" for i in range(count - 1)], "sum")])
    if kind == "fan-out":
        uses = [node(_one, "shared", f"use_{i}", name=f"use_{i}") for i in range(count - 1)]
        return pipeline([node(_one, "raw", "shared", name="source"), *uses])
    links = [node(_one, f"link_{i - 1}", f"link_{i}", name=f"link_{i}") for i in range(1, count)]
    return pipeline([node(_one, "raw", "link_0", name="link_0"), *links])


def _calls(kind: str, count: int, grouping: str = "none") -> int:
    options = CompileOptions(code=".")
    pipe = _shape(kind, count)
    profile = cProfile.Profile()
    profile.enable()
    _, job = compile_pipeline(pipe, CONFIG, options, CATALOG.get, grouping=grouping)
    job_yaml(job, options)
    profile.disable()
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["fan-in", "fan-out", "chain"])
@pytest.mark.parametrize("grouping", ["none", "auto"])
def test_compile_work_is_linear_in_the_pipeline(kind: str, grouping: str) -> None:
    _calls(kind, 20, grouping)  # first-use costs (imports, schema caches) out of the way
    small, large = _calls(kind, 100, grouping), _calls(kind, 200, grouping)
    assert large / small < 2.1, f"{kind}: {small} calls for 100 nodes, {large} for 200"


@pytest.mark.parametrize("kind", ["fan-in", "fan-out", "chain", "random"])
def test_auto_grouping_work_is_linear_up_to_5000_nodes(kind: str) -> None:
    """The grouping alone, where a quadratic step would show (the SDK's cost is above)."""

    def calls(count: int) -> int:
        pipe = _shape(kind, count) if kind != "random" else _random(count)
        profile = cProfile.Profile()
        profile.enable()
        group_nodes(pipe, "auto")
        profile.disable()
        return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]

    small, large = calls(2500), calls(5000)
    assert large / small < 2.2, f"{kind}: {small} calls for 2500 nodes, {large} for 5000"


def _random(count: int) -> Any:
    rng = random.Random(count)
    nodes = []
    for i in range(count):
        reads = {f"d{rng.randrange(i)}" for _ in range(rng.randint(0, 3))} if i else set()
        nodes.append(node(_total, sorted(reads) or "raw", f"d{i}", name=f"n{i}"))
    return pipeline(nodes)
