from __future__ import annotations

from typing import Any

import pytest
import yaml
from kedro.pipeline import node, pipeline

from kedro_azureml.compiler.compile import compile_pipeline, job_yaml
from kedro_azureml.compiler.grouping import group_nodes, split_groups
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.compiler.yaml_out import dump_yaml
from kedro_azureml.config import parse_config
from kedro_azureml.distributed import Framework, distributed_job
from kedro_azureml.errors import CompileError, ConfigError

CATALOG: dict[str, dict[str, Any]] = {
    "raw": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/raw.csv"},
    "session": {"type": "MemoryDataset", "copy_mode": "assign"},
    "conn": {"type": "kedro.io.MemoryDataset", "copy_mode": "assign"},
    "copied": {"type": "MemoryDataset", "copy_mode": "deepcopy"},
}


def _f(*args: Any) -> Any:
    return args[0] if args else None


@distributed_job(Framework.PyTorch, num_nodes=2)
def _train(*args: Any) -> Any:
    return args[0]


def _config(**compute: dict[str, Any]):
    return parse_config(
        {
            "azure": {
                "resource_group": "rg",
                "workspace_name": "ws",
                "experiment_name": "exp",
                "compute": {"__default__": {"cluster_name": "cpu"}, **compute},
                "environment_name": "env@latest",
            }
        }
    )


def _steps(groups) -> list[tuple[str, list[str]]]:
    return [(group.name, [n.name for n in group.nodes]) for group in groups]


def _namespaced():
    return pipeline(
        [
            node(_f, "raw", "prep.a", name="a", namespace="prep"),
            node(_f, "prep.a", "prep.b", name="b", namespace="prep"),
            node(_f, "prep.b", "model.c", name="c", namespace="model.train"),
            node(_f, "model.c", "model.d", name="d", namespace="model.eval"),
            node(_f, "model.d", "report", name="report"),
        ]
    )


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        pytest.param(
            "none",
            [
                ("prep.a", ["prep.a"]),
                ("prep.b", ["prep.b"]),
                ("model.train.c", ["model.train.c"]),
                ("model.eval.d", ["model.eval.d"]),
                ("report", ["report"]),
            ],
            id="none",
        ),
        pytest.param(
            "namespace",
            [
                ("prep", ["prep.a", "prep.b"]),
                ("model", ["model.train.c", "model.eval.d"]),  # Kedro's top-level namespace
                ("report", ["report"]),
            ],
            id="namespace",
        ),
    ],
)
def test_none_and_namespace(strategy: str, expected: list[tuple[str, list[str]]]) -> None:
    assert _steps(group_nodes(_namespaced(), strategy)) == expected


def test_tag_groups_share_a_step_and_untagged_nodes_run_alone() -> None:
    pipe = pipeline(
        [
            node(_f, "raw", "x", name="load", tags=["group.etl"]),
            node(_f, "x", "y", name="clean", tags=["group.etl", "other"]),
            node(_f, "y", "z", name="fit"),
            node(_f, "z", "w", name="score", tags=["group.serve"]),
        ]
    )
    assert _steps(group_nodes(pipe, "tag")) == [
        ("etl", ["load", "clean"]),
        ("fit", ["fit"]),
        ("serve", ["score"]),
    ]


def test_two_group_tags_is_a_compile_error() -> None:
    pipe = pipeline([node(_f, "raw", "x", name="n", tags=["group.a", "group.b"])])
    with pytest.raises(CompileError, match="Node 'n' has the group tags a, b"):
        group_nodes(pipe, "tag")


def test_memory_joins_nodes_sharing_an_assign_memory_dataset() -> None:
    pipe = pipeline(
        [
            node(_f, "raw", "session", name="open"),
            node(_f, "session", "t1", name="use_1"),
            node(_f, "session", "t2", name="use_2"),
            node(_f, ["t1", "t2"], "conn", name="connect"),
            node(_f, "conn", "out", name="query"),
            node(_f, "out", "copied", name="copy"),  # deepcopy memory data travels
            node(_f, "copied", "final", name="last"),
        ]
    )
    assert _steps(group_nodes(pipe, "memory", CATALOG.get)) == [
        ("open", ["open", "use_1", "use_2"]),
        ("connect", ["connect", "query"]),
        ("copy", ["copy"]),
        ("last", ["last"]),
    ]


def test_a_shared_memory_dataset_with_assign_stays_in_its_step_like_a_memory_dataset() -> None:
    # SharedMemoryDataset is a memory dataset for routing; grouping used to miss it and split
    # its writer and reader into two steps (["open"], ["use"]).
    catalog = {"shared": {"type": "kedro.io.SharedMemoryDataset", "copy_mode": "assign"}}
    pipe = pipeline([node(_f, "raw", "shared", name="open"), node(_f, "shared", "out", name="use")])
    assert _steps(group_nodes(pipe, "memory", catalog.get)) == [("open", ["open", "use"])]


def test_every_strategy_name_is_a_strategy_of_config_and_cli() -> None:
    from kedro_azureml.cli import compile_options
    from kedro_azureml.compiler.grouping import _PROPOSERS
    from kedro_azureml.contract.grouping_strategies import GROUPING_STRATEGIES

    command = compile_options(lambda **kwargs: None)
    (group_by,) = [p for p in command.__click_params__ if p.name == "group_by"]
    assert tuple(group_by.type.choices) == GROUPING_STRATEGIES
    assert tuple(_PROPOSERS) == GROUPING_STRATEGIES
    azure = _config().model_dump()["azure"]
    for strategy in GROUPING_STRATEGIES:
        assert parse_config({"azure": {**azure, "grouping": strategy}}).azure.grouping == strategy
    with pytest.raises(ConfigError, match=r"azure\.grouping: Input should be 'none', 'namespace'"):
        parse_config({"azure": {**azure, "grouping": "biggest"}})


def test_unknown_strategy_is_a_compile_error() -> None:
    with pytest.raises(CompileError, match="Use one of: none, namespace, tag, memory"):
        group_nodes(_namespaced(), "biggest")


def test_group_spanning_computes_is_split_per_compute() -> None:
    pipe = pipeline(
        [
            node(_f, "raw", "ns.a", name="a", namespace="ns", tags=["gpu"]),
            node(_f, "raw", "ns.b", name="b", namespace="ns"),
            node(_f, ["ns.a", "ns.b"], "ns.c", name="c", namespace="ns", tags=["gpu"]),
        ]
    )
    plan, _ = compile_pipeline(
        pipe,
        _config(gpu={"cluster_name": "gpu-cluster"}),
        CompileOptions(code="."),
        CATALOG.get,
        grouping="namespace",
    )
    assert [(s.name, s.node_names, s.compute) for s in plan.steps] == [
        ("ns_b", ("ns.b",), "__default__"),
        ("ns", ("ns.a", "ns.c"), "gpu"),
    ]
    gpu = plan.steps[1]
    assert gpu.inputs == {"ns.b": "ns_b"}  # ns.a stays in memory inside the step
    assert gpu.outputs == {"ns.c": "ns_c"}


def test_distributed_node_runs_alone() -> None:
    pipe = pipeline(
        [
            node(_f, "raw", "x", name="prep", tags=["group.all"]),
            node(_train, "x", "model", name="train", tags=["group.all"]),
            node(_f, "raw", "y", name="side", tags=["group.all"]),
        ]
    )
    assert _steps(group_nodes(pipe, "tag")) == [("all", ["prep", "side"]), ("train", ["train"])]
    plan, _ = compile_pipeline(
        pipe, _config(), CompileOptions(code="."), CATALOG.get, grouping="tag"
    )
    distributed = [s.name for s in plan.steps if s.distribution is not None]
    assert distributed == ["train"]
    assert plan.steps[1].distribution.num_nodes == 2


def test_group_that_would_wait_for_itself_is_split_into_layers() -> None:
    # a and c share a tag, but c needs b, which needs a: one step {a, c} would be a cycle.
    pipe = pipeline(
        [
            node(_f, "raw", "x", name="a", tags=["group.g"]),
            node(_f, "raw", "side", name="d", tags=["group.g"]),
            node(_f, "x", "y", name="b"),
            node(_f, ["y", "side"], "z", name="c", tags=["group.g"]),
        ]
    )
    assert _steps(group_nodes(pipe, "tag")) == [
        ("g", ["a", "d"]),
        ("b", ["b"]),
        ("c", ["c"]),
    ]


def test_cycle_through_two_groups_is_split() -> None:
    # g1 = {a, d}, g2 = {b, c}: a -> b and c -> d, and b -> x -> c only through h.
    pipe = pipeline(
        [
            node(_f, "raw", "a_out", name="a", tags=["group.g1"]),
            node(_f, "a_out", "b_out", name="b", tags=["group.g2"]),
            node(_f, "raw", "c_out", name="c", tags=["group.g2"]),
            node(_f, "c_out", "d_out", name="d", tags=["group.g1"]),
            node(_f, ["b_out", "d_out"], "e_out", name="e"),
        ]
    )
    groups = group_nodes(pipe, "tag")
    step_of = {n.name: g.name for g in groups for n in g.nodes}
    position = {g.name: i for i, g in enumerate(groups)}
    for n in pipe.nodes:  # every producer's step comes before its consumers' steps
        for parent in pipe.node_dependencies[n]:
            assert position[step_of[parent.name]] <= position[step_of[n.name]]
    # one group is split (not both), and only where it has to be
    assert _steps(groups) == [("a", ["a"]), ("g2", ["c", "b"]), ("d", ["d"]), ("e", ["e"])]


def test_split_groups_keeps_valid_groups_as_they_are() -> None:
    groups = group_nodes(_namespaced(), "namespace")
    assert _steps(split_groups(_namespaced(), groups)) == _steps(groups)


def test_grouped_steps_compile_to_a_loadable_job(tmp_path) -> None:
    from azure.ai.ml import load_job

    options = CompileOptions(code=".")
    plan, job = compile_pipeline(
        _namespaced(), _config(), options, CATALOG.get, grouping="namespace"
    )
    assert [s.name for s in plan.steps] == ["prep", "model", "report"]
    text = job_yaml(job, options)
    path = tmp_path / "pipeline.yaml"
    path.write_text(text)
    loaded = load_job(path)
    assert set(loaded.jobs) == {"prep", "model", "report"}
    command = yaml.safe_load(text)["jobs"]["model"]["component"]["command"]
    assert "--node model.train.c --node model.eval.d" in command
    assert "--az-input prep.b ${{inputs.prep_b}}" in command
    assert "model.c" not in command.replace("model.train.c", "")  # stays in memory


@pytest.mark.parametrize(
    "value",
    [
        "",
        "yes",
        "No",
        "1",
        "1e3",
        "0x10",
        "null",
        "~",
        "@x",
        "a: b",
        "a #b",
        "-x",
        "x:",
        " x",
        "ü",
        "line\nbreak",
        "'q'",
        '"d"',
        "2024-01-01",
        ".inf",
        "{x}",
        "*a",
        "!t",
        "azureml:env@latest",
        "${{parent.outputs.x}}",
    ],
)
def test_yaml_strings_read_back_unchanged(value: str) -> None:
    data = {"k": value, "l": [value, {"m": value}, [value]], value: {"n": [], "o": {}}}
    assert yaml.safe_load(dump_yaml(data)) == data


def test_yaml_layout_is_block_style() -> None:
    data = {"a": {"b": [{"c": 1, "d": True}, "e"], "f": None}, "g": 0.5}
    assert dump_yaml(data) == "a:\n  b:\n    - c: 1\n      d: true\n    - e\n  f: null\ng: 0.5\n"
