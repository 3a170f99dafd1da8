"""Write a synthetic Kedro project with a layered pipeline, for the compile and run benchmarks.

    python benchmarks/generate.py 1000 /tmp/bench-1000
    python benchmarks/generate.py 5000 /tmp/fan-in --shape fan-in    # also chain, fan-out

The project comes from ``kedro new`` (offline, no example), then gets a pipeline of N nodes in
layers of 10: every node of layer k reads two nodes of layer k-1 (the first layer reads the two
raw CSV files) and a parameter, and writes an in-memory dataset. Every tenth layer sits in a
namespace ``block_<i>`` and carries a ``group.block_<i>`` tag (Kedro tags allow no colon), so each grouping strategy has
something to group. ``kedro azureml init`` with five arguments configures pipeline data passing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

# The benchmarks drive projects exactly as the tests do: one helper for `kedro new` and `kedro`.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support import kedro_projects
from tests.support.kedro_projects import BIN, kedro, quiet_env  # noqa: F401

PACKAGE = "bench"
WIDTH = 10  # nodes per layer
LAYERS_PER_BLOCK = 10
INIT_ARGS = ["azureml", "init", "rg", "ws", "exp", "cpu", "env@latest"]

PIPELINE_REGISTRY = '''"""A synthetic layered pipeline of {nodes} nodes, written by benchmarks/generate.py."""

from kedro.pipeline import Pipeline, node


def combine(left, right, offset):
    return left + right + offset


def first(left, right, offset):
    return float(left["x"].sum() + right["x"].sum() + offset)


def register_pipelines() -> dict[str, Pipeline]:
    nodes = []
    for index in range({nodes}):
        layer, column = divmod(index, {width})
        block = layer // {layers_per_block}
        namespace = f"block_{{block}}"
        if layer == 0:
            inputs = ["raw_left", "raw_right"]
        else:
            inputs = [
                _dataset(layer - 1, column),
                _dataset(layer - 1, (column + 1) % {width}),
            ]
        nodes.append(
            node(
                first if layer == 0 else combine,
                [*inputs, "params:offset"],
                _dataset(layer, column),
                name=f"node_{{layer}}_{{column}}",
                namespace=namespace,
                tags=[f"group.{{namespace}}"],
            )
        )
    return {{"__default__": Pipeline(nodes)}}


def _dataset(layer: int, column: int) -> str:
    return f"block_{{layer // {layers_per_block}}}.data_{{layer}}_{{column}}"
'''

# One node reading the outputs of all others (fan-in), one output read by all others
# (fan-out), and a chain: the shapes that make a compiler's cost depend on node degree.
SHAPE_REGISTRY = '''"""A {shape} pipeline of {nodes} nodes, written by benchmarks/generate.py."""

from kedro.pipeline import Pipeline, node


def one(left, offset):
    return float(left["x"].sum() + offset)


def total(*values):
    return float(sum(values))


def register_pipelines() -> dict[str, Pipeline]:
    shape, count = "{shape}", {nodes}
    if shape == "fan-in":
        nodes = [node(one, ["raw_left", "params:offset"], f"part_{{i}}", name=f"part_{{i}}")
                 for i in range(count - 1)]
        nodes.append(node(total, [f"part_{{i}}" for i in range(count - 1)], "result", name="sum"))
    elif shape == "fan-out":
        nodes = [node(one, ["raw_left", "params:offset"], "shared", name="source")]
        nodes += [node(total, "shared", f"use_{{i}}", name=f"use_{{i}}") for i in range(count - 1)]
    else:  # chain
        nodes = [node(one, ["raw_left", "params:offset"], "link_0", name="link_0")]
        nodes += [node(total, f"link_{{i - 1}}", f"link_{{i}}", name=f"link_{{i}}")
                  for i in range(1, count)]
    return {{"__default__": Pipeline(nodes)}}
'''
SHAPES = ("layered", "chain", "fan-in", "fan-out")

CATALOG = """\
raw_left:
  type: pandas.CSVDataset
  filepath: data/01_raw/left.csv
raw_right:
  type: pandas.CSVDataset
  filepath: data/01_raw/right.csv
"""


def new_project(parent: Path) -> Path:
    """A blank `kedro new` project with the plugin configured; no pipeline yet."""
    parent.mkdir(parents=True, exist_ok=True)
    project = kedro_projects.new_project(parent, PACKAGE)
    kedro(project, *INIT_ARGS)
    raw = project / "data" / "01_raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name in ("left", "right"):
        (raw / f"{name}.csv").write_text("x\n" + "\n".join(str(i) for i in range(10)) + "\n")
    (project / "conf" / "base" / "catalog.yml").write_text(CATALOG)
    (project / "conf" / "base" / "parameters.yml").write_text("offset: 1\n")
    return project


def write_pipeline(project: Path, nodes: int, shape: str = "layered") -> None:
    """Replace the project's pipeline with one of ``nodes`` nodes of the given shape."""
    registry = project / "src" / PACKAGE / "pipeline_registry.py"
    if shape == "layered":
        text = PIPELINE_REGISTRY.format(nodes=nodes, width=WIDTH, layers_per_block=LAYERS_PER_BLOCK)
    else:
        text = SHAPE_REGISTRY.format(shape=shape, nodes=nodes)
    registry.write_text(text)
    shutil.rmtree(registry.parent / "__pycache__", ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("nodes", type=int)
    parser.add_argument("parent", type=Path, help="folder to create the project in")
    parser.add_argument("--shape", choices=SHAPES, default="layered")
    args = parser.parse_args()
    project = new_project(args.parent)
    write_pipeline(project, args.nodes, args.shape)
    print(project)


if __name__ == "__main__":
    main()
