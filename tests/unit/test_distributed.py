"""Compute per node, ``@distributed_job`` and its ranks: compiled YAML and local launches."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from kedro.pipeline import node, pipeline

from kedro_azureml.compiler.compile import compile_pipeline, job_yaml
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.config import parse_config
from kedro_azureml.distributed import (
    Framework,
    distributed_job,
    distributed_rank,
    is_distributed_master_node,
)
from kedro_azureml.distributed.config import ATTRIBUTE, DistributedConfig
from kedro_azureml.errors import CompileError, KedroAzureMLError
from kedro_azureml.local.job import read_steps
from kedro_azureml.local.ranks import rank_launches
from tests.support.local_steps import rank_step

# The azureml.yml of the README's quickstart, compute part verbatim.
QUICKSTART_CONFIG = """
azure:
  subscription_id: ""           # or -s / $AZURE_SUBSCRIPTION_ID
  resource_group: my-rg
  workspace_name: my-ws
  experiment_name: my-experiment
  compute:
    __default__: {cluster_name: cpu-cluster}
    chunky: {cluster_name: cpu-cluster-8}    # nodes tagged "chunky" run here
  temporary_storage: {account_name: mystorage, container: kedro-temp}
  environment_name: kedro-env@latest        # code upload flow
  code_directory: "."                       # ~ for the docker image flow
  working_directory: /home/kedro_docker     # where the project lives in the image
  pipeline_data_passing: {enabled: false}
  grouping: none
docker:
  image: ~                                   # e.g. myacr.azurecr.io/project:latest
"""
EXTRA_COMPUTES = {
    "serverless_box": {"serverless": True, "instance_type": "Standard_DS3_v2"},
    "gpu": {
        "cluster_name": "gpu-cluster",
        "instance_type": "Standard_NC6s_v3",
        "instance_count": 3,
    },
}
CATALOG = {
    name: {"type": "pandas.CSVDataset", "filepath": f"data/01_raw/{name}.csv"}
    for name in ("raw", "model_input_table")
}
RANK_VARIABLES = ("RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "TF_CONFIG")
NAMESPACE = "data_science.active_modelling_pipeline"


def identity(value: Any) -> Any:
    return value


def _config(extra_computes: dict[str, Any] | None = None) -> Any:
    data = yaml.safe_load(QUICKSTART_CONFIG)
    data["azure"]["compute"].update(extra_computes or {})
    return parse_config(data)


def _compile(
    nodes: list[Any],
    *,
    params: dict[str, Any] | None = None,
    extra_computes: dict[str, Any] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Compile ``nodes`` and return the job YAML as ``az ml job create -f`` would read it."""
    compile_options = CompileOptions(code=".", **options)
    _, job = compile_pipeline(
        pipeline(nodes),
        _config(extra_computes),
        compile_options,
        CATALOG.get,
        params=params,
    )
    return dict(yaml.safe_load(job_yaml(job, compile_options)))


def _trainer(framework: Framework, num_nodes: int | str, per_node: int | str | None = None) -> Any:
    @distributed_job(framework, num_nodes=num_nodes, processes_per_node=per_node)
    def train(data: Any) -> Any:
        return data

    return train


def _namespaced(func: Any, name: str = "train") -> Any:
    """``func`` as a node of the spaceflights data_science namespace."""
    return pipeline(
        [node(func, "model_input_table", "model", name=name)],
        namespace=NAMESPACE,
        inputs="model_input_table",
    )


# --- compute per node --------------------------------------------------------------------


def test_quickstart_chunky_tag_picks_its_cluster() -> None:
    data = _compile(
        [
            node(identity, "raw", "a", name="small"),
            node(identity, "a", "b", name="big", tags=["chunky"]),
        ]
    )
    assert data["compute"] == "azureml:cpu-cluster"
    assert data["jobs"]["small"]["compute"] == "azureml:cpu-cluster"
    assert data["jobs"]["big"]["compute"] == "azureml:cpu-cluster-8"
    assert "resources" not in data["jobs"]["big"]
    assert "distribution" not in data["jobs"]["big"]


def test_instance_type_and_count_of_a_cluster_alias() -> None:
    data = _compile(
        [node(identity, "raw", "a", name="n", tags=["gpu"])], extra_computes=EXTRA_COMPUTES
    )
    assert data["jobs"]["n"]["compute"] == "azureml:gpu-cluster"
    assert data["jobs"]["n"]["resources"] == {
        "instance_count": 3,
        "instance_type": "Standard_NC6s_v3",
    }


def test_serverless_alias_sets_instance_type_only() -> None:
    data = _compile(
        [node(identity, "raw", "a", name="n", tags=["serverless_box"])],
        extra_computes=EXTRA_COMPUTES,
    )
    assert data["jobs"]["n"]["resources"] == {"instance_type": "Standard_DS3_v2"}


def test_serverless_step_does_not_inherit_the_default_cluster() -> None:
    data = _compile(
        [node(identity, "raw", "a", name="n", tags=["serverless_box"])],
        extra_computes=EXTRA_COMPUTES,
    )
    assert data["jobs"]["n"].get("compute") == "azureml:serverless"


def test_env_vars_and_deterministic_tag() -> None:
    data = _compile(
        [
            node(identity, "raw", "a", name="cached", tags=["deterministic"]),
            node(identity, "a", "b", name="fresh"),
        ],
        env_vars={"B_VAR": "two words", "A_VAR": "ünï $x"},
    )
    for step in ("cached", "fresh"):
        assert data["jobs"][step]["environment_variables"] == {
            "A_VAR": "ünï $x",
            "B_VAR": "two words",
        }
    assert data["jobs"]["cached"]["component"]["is_deterministic"] is True
    assert data["jobs"]["fresh"]["component"]["is_deterministic"] is False


@pytest.mark.parametrize(
    ("tags", "extra", "message"),
    [
        (["chunky", "gpu"], EXTRA_COMPUTES, "Node 'n' has the tags chunky, gpu"),
        (
            ["chunky", "serverless_box"],
            EXTRA_COMPUTES,
            "Node 'n' has the tags chunky, serverless_box",
        ),
    ],
    ids=["two-clusters", "cluster-and-serverless"],
)
def test_two_compute_tags_are_refused(tags: list[str], extra: dict[str, Any], message: str) -> None:
    with pytest.raises(CompileError, match=message):
        _compile([node(identity, "raw", "a", name="n", tags=tags)], extra_computes=extra)


# --- distribution ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("framework", "distribution"),
    [
        (Framework.PyTorch, {"type": "pytorch", "process_count_per_instance": 3}),
        (Framework.MPI, {"type": "mpi", "process_count_per_instance": 3}),
        (
            Framework.TensorFlow,
            {"type": "tensorflow", "parameter_server_count": 0, "worker_count": 6},
        ),
    ],
    ids=["pytorch", "mpi", "tensorflow"],
)
def test_each_framework_compiles_to_its_distribution(
    framework: Framework, distribution: dict[str, Any]
) -> None:
    data = _compile([node(_trainer(framework, 2, 3), "raw", "model", name="train")])
    step = data["jobs"]["train"]
    assert step["distribution"] == distribution
    assert step["resources"] == {"instance_count": 2}
    assert step["compute"] == "azureml:cpu-cluster"


def test_distribution_overrides_the_compute_instance_count() -> None:
    data = _compile(
        [node(_trainer(Framework.PyTorch, 4), "raw", "model", name="train", tags=["gpu"])],
        extra_computes=EXTRA_COMPUTES,
    )
    assert data["jobs"]["train"]["resources"] == {
        "instance_count": 4,
        "instance_type": "Standard_NC6s_v3",
    }


def test_quickstart_decorators_compile() -> None:
    """The README's two forms: a count from the parameters (overridden at runtime) and a literal."""

    @distributed_job(Framework.PyTorch, num_nodes="params:num_nodes")
    def from_params(data: Any) -> Any:
        return data

    @distributed_job(Framework.PyTorch, num_nodes=2)
    def literal(data: Any) -> Any:
        return data

    # What Kedro's context.params holds after --params '{"data_science": {...: {"num_nodes": 4}}}'
    overridden = {"data_science": {"active_modelling_pipeline": {"num_nodes": 4}}}
    data = _compile(
        [*_namespaced(from_params).nodes, node(literal, "raw", "other", name="literal")],
        params=overridden,
    )
    assert data["jobs"][f"{NAMESPACE}.train".replace(".", "_")]["resources"] == {
        "instance_count": 4
    }
    assert data["jobs"]["literal"]["resources"] == {"instance_count": 2}
    assert data["jobs"]["literal"]["distribution"] == {
        "type": "pytorch",
        "process_count_per_instance": 1,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"data_science": {"active_modelling_pipeline": {"num_nodes": 4}}}, 4),
        ({"data_science.active_modelling_pipeline.num_nodes": 5}, 5),
        ({"data_science": {"num_nodes": 6}}, 6),
        ({"num_nodes": 7}, 7),
        ({"num_nodes": 7, "data_science": {"active_modelling_pipeline": {"num_nodes": 3}}}, 3),
    ],
    ids=["nested", "dotted-key", "parent-namespace", "top-level", "innermost-wins"],
)
def test_params_count_resolves_through_namespaces(params: dict[str, Any], expected: int) -> None:
    trainer = _trainer(Framework.PyTorch, "params:num_nodes", "params:per_node")
    data = _compile(_namespaced(trainer).nodes, params={**params, "per_node": 2})
    step = data["jobs"]["data_science_active_modelling_pipeline_train"]
    assert step["resources"] == {"instance_count": expected}
    assert step["distribution"]["process_count_per_instance"] == 2


def test_params_count_prefers_the_nodes_own_namespaced_input() -> None:
    trainer = _trainer(Framework.MPI, "params:num_nodes")
    nodes = pipeline(
        [node(trainer, ["model_input_table", "params:num_nodes"], "model", name="train")],
        namespace=NAMESPACE,
        inputs="model_input_table",
    ).nodes
    assert f"params:{NAMESPACE}.num_nodes" in nodes[0].inputs
    data = _compile(
        nodes,
        params={"num_nodes": 9, "data_science": {"active_modelling_pipeline": {"num_nodes": 2}}},
    )
    assert data["jobs"]["data_science_active_modelling_pipeline_train"]["resources"] == {
        "instance_count": 2
    }


@pytest.mark.parametrize(
    ("num_nodes", "params", "message"),
    [
        (0, {}, "num_nodes must be a positive integer, got 0"),
        (-2, {}, "num_nodes must be a positive integer, got -2"),
        ("x", {}, "num_nodes must be a positive integer, got 'x'"),
        (True, {}, "num_nodes must be a positive integer, got True"),
        ("params:num_nodes", {}, "num_nodes='params:num_nodes' names a parameter that does not"),
        ("params:num_nodes", {"num_nodes": "2"}, "must be a positive integer, got '2'"),
        ("params:num_nodes", {"num_nodes": 0}, "must be a positive integer, got 0"),
    ],
    ids=["zero", "negative", "not-a-number", "bool", "missing-param", "string-param", "zero-param"],
)
def test_bad_num_nodes_names_the_node(num_nodes: Any, params: dict[str, Any], message: str) -> None:
    trainer = _trainer(Framework.PyTorch, num_nodes)
    with pytest.raises(CompileError) as error:
        _compile(_namespaced(trainer).nodes, params=params)
    assert str(error.value).startswith(f"Node '{NAMESPACE}.train': ")
    assert message in str(error.value)


def test_bad_processes_per_node_names_the_node() -> None:
    with pytest.raises(CompileError, match=r"Node 'train': processes_per_node .* got 0"):
        _compile([node(_trainer(Framework.MPI, 2, 0), "raw", "model", name="train")])


def test_load_job_accepts_the_distributed_yaml(tmp_path: Path) -> None:
    from azure.ai.ml import MpiDistribution, PyTorchDistribution, TensorFlowDistribution, load_job

    nodes = [
        node(_trainer(Framework.PyTorch, 2, 2), "raw", "a", name="torch"),
        node(_trainer(Framework.MPI, 3), "a", "b", name="mpi"),
        node(_trainer(Framework.TensorFlow, 2), "b", "c", name="tf", tags=["chunky"]),
    ]
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(_compile(nodes), sort_keys=False))
    job = load_job(path)
    assert job._validate().passed
    assert isinstance(job.jobs["torch"].distribution, PyTorchDistribution)
    assert job.jobs["torch"].distribution.process_count_per_instance == 2
    assert job.jobs["torch"].resources.instance_count == 2
    assert isinstance(job.jobs["mpi"].distribution, MpiDistribution)
    assert job.jobs["mpi"].resources.instance_count == 3
    assert isinstance(job.jobs["tf"].distribution, TensorFlowDistribution)
    assert job.jobs["tf"].distribution.worker_count == 2
    assert job.jobs["tf"].compute == "cpu-cluster-8"


# --- the decorator and ranks -------------------------------------------------------------


def test_decorated_function_still_runs_directly() -> None:
    @distributed_job("mpi", num_nodes="params:n", processes_per_node=2)  # type: ignore[arg-type]
    def add(a: int, b: int = 1) -> int:
        """Add."""
        return a + b

    assert add(2, b=5) == 7
    assert add.__name__ == "add" and add.__doc__ == "Add."
    assert getattr(add, ATTRIBUTE) == DistributedConfig(Framework.MPI, "params:n", 2)
    with pytest.raises(ValueError, match="'horovod' is not a valid Framework"):
        distributed_job("horovod", num_nodes=2)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("env", "rank"),
    [
        ({}, 0),
        ({"RANK": "0"}, 0),
        ({"RANK": "1"}, 1),
        ({"OMPI_COMM_WORLD_RANK": "0"}, 0),
        ({"OMPI_COMM_WORLD_RANK": "3"}, 3),
        ({"PMI_RANK": "2"}, 2),
        ({"RANK": "", "OMPI_COMM_WORLD_RANK": "1"}, 1),
        ({"TF_CONFIG": json.dumps({"task": {"type": "worker", "index": 0}})}, 0),
        ({"TF_CONFIG": json.dumps({"task": {"type": "worker", "index": 1}})}, 1),
        ({"TF_CONFIG": json.dumps({"cluster": {"chief": ["h:1"]}, "task": {"type": "chief"}})}, 0),
        (
            {
                "TF_CONFIG": json.dumps(
                    {"cluster": {"chief": ["h:1"]}, "task": {"type": "worker", "index": 0}}
                )
            },
            1,
        ),
        ({"TF_CONFIG": json.dumps({"task": {"type": "ps", "index": 0}})}, -1),
        ({"TF_CONFIG": json.dumps({"task": {"type": "evaluator", "index": 0}})}, -1),
    ],
    ids=[
        "none",
        "rank-0",
        "rank-1",
        "ompi-0",
        "ompi-3",
        "pmi-2",
        "empty-rank-falls-through",
        "tf-worker-0",
        "tf-worker-1",
        "tf-chief",
        "tf-worker-0-with-chief",
        "tf-parameter-server-0",
        "tf-evaluator-0",
    ],
)
def test_master_node_from_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], rank: int
) -> None:
    for variable in RANK_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    assert distributed_rank() == rank
    assert is_distributed_master_node() is (rank == 0)


def test_only_the_master_saves_step_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kedro_azureml.step.serialization import load_object
    from kedro_azureml.step.step_data import StepFolderDataset

    for variable in RANK_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("RANK", "1")
    StepFolderDataset(name="model", folder=str(tmp_path / "worker")).save({"rank": 1})
    assert not (tmp_path / "worker").exists()
    monkeypatch.setenv("RANK", "0")
    StepFolderDataset(name="model", folder=str(tmp_path / "master")).save({"rank": 0})
    assert load_object(str(tmp_path / "master")) == {"rank": 0}


# --- local launches ----------------------------------------------------------------------


def test_compiled_distribution_reaches_the_local_launches(tmp_path: Path) -> None:
    data = _compile([node(_trainer(Framework.PyTorch, 2, 2), "raw", "model", name="train")])
    (step,) = read_steps(data, tmp_path)
    assert step.instance_count == 2
    assert step.distribution == {"type": "pytorch", "process_count_per_instance": 2}
    launches = rank_launches(step, "true", {"PATH": os.environ["PATH"]})
    ranks = [
        {key: env[key] for key in ("RANK", "LOCAL_RANK", "NODE_RANK", "WORLD_SIZE")}
        for _, env in launches
    ]
    assert ranks == [
        {"RANK": "0", "LOCAL_RANK": "0", "NODE_RANK": "0", "WORLD_SIZE": "4"},
        {"RANK": "1", "LOCAL_RANK": "1", "NODE_RANK": "0", "WORLD_SIZE": "4"},
        {"RANK": "2", "LOCAL_RANK": "0", "NODE_RANK": "1", "WORLD_SIZE": "4"},
        {"RANK": "3", "LOCAL_RANK": "1", "NODE_RANK": "1", "WORLD_SIZE": "4"},
    ]
    assert {env["MASTER_ADDR"] for _, env in launches} == {"127.0.0.1"}
    assert len({env["MASTER_PORT"] for _, env in launches}) == 1
    assert all(argv == ["bash", "-c", "true"] for argv, _ in launches)


def test_step_without_distribution_is_one_launch() -> None:
    launches = rank_launches(rank_step({}, 1, "echo hi"), "echo hi", {"A": "1"})
    assert launches == [(["bash", "-c", "echo hi"], {"A": "1"})]


def test_unknown_distribution_type_is_refused() -> None:
    with pytest.raises(KedroAzureMLError, match="unknown distribution type 'ray'"):
        rank_launches(rank_step({"type": "ray"}, 2, "true"), "true", {})


# --- which parameter a node's ``params:`` count names ------------------------------------


@distributed_job(Framework.PyTorch, num_nodes="params:num_nodes")
def train_with_count(data: Any, num_nodes: int, learning_rate: float) -> Any:
    return data


COUNT_AND_RATE = ["raw", "params:num_nodes", "params:learning_rate"]
MAPPED_GLOBALS = {"global_nodes": 3, "global_rate": 5}
EVERY_OTHER_COUNT = {"num_nodes": 9, "ns": {"num_nodes": 7}, "outer": {"num_nodes": 6}}


def _mapped(func: Any, inputs: Any, parameters: Any, *, outer: str | None = None) -> list[Any]:
    """A ``train`` node in namespace ``ns`` (inside ``outer``) with a ``parameters=`` mapping."""
    mapped = pipeline(
        [node(func, inputs, "model", name="train")],
        namespace="ns",
        inputs="raw",
        parameters=parameters,
    )
    return list((pipeline(mapped, namespace=outer, inputs="raw") if outer else mapped).nodes)


def _instance_count(nodes: list[Any], params: dict[str, Any], name: str) -> int:
    data = _compile(nodes, params=params)
    return int(data["jobs"][name.replace(".", "_")]["resources"]["instance_count"])


def test_params_count_without_namespace_ignores_other_models_inputs() -> None:
    """A plain node's ``params:num_nodes`` is the top-level one, whatever else it takes."""
    trainer = _trainer(Framework.PyTorch, "params:num_nodes")
    nodes = [node(trainer, ["raw", "params:other_model.num_nodes"], "model", name="train")]
    params = {"num_nodes": 3, "other_model": {"num_nodes": 8}}
    assert _instance_count(nodes, params, "train") == 3


@pytest.mark.parametrize(
    ("nodes", "params", "name"),
    [
        (
            _mapped(
                _trainer(Framework.PyTorch, "params:num_nodes"),
                ["raw", "params:num_nodes"],
                {"params:num_nodes": "params:global_nodes"},
            ),
            {"global_nodes": 3},
            "ns.train",
        ),
        (
            _mapped(
                train_with_count,
                COUNT_AND_RATE,
                {"num_nodes": "global_nodes", "learning_rate": "global_rate"},
            ),
            {**MAPPED_GLOBALS, **EVERY_OTHER_COUNT},
            "ns.train",
        ),
        (
            _mapped(
                train_with_count,
                {
                    "data": "raw",
                    "learning_rate": "params:learning_rate",
                    "num_nodes": "params:num_nodes",
                },
                {"num_nodes": "global_nodes", "learning_rate": "global_rate"},
            ),
            {**MAPPED_GLOBALS, **EVERY_OTHER_COUNT},
            "ns.train",
        ),
        (
            _mapped(train_with_count, COUNT_AND_RATE, {"num_nodes": "global_nodes"}, outer="outer"),
            {"outer": {"global_nodes": 3, "num_nodes": 6}, "num_nodes": 9},
            "outer.ns.train",
        ),
        (
            _mapped(
                _trainer(Framework.PyTorch, "params:num_nodes"),
                ["raw", "params:num_nodes"],
                {"num_nodes"},
            ),
            {"num_nodes": 3, "ns": {"num_nodes": 7}},
            "ns.train",
        ),
    ],
    ids=["sole-mapped-input", "mapped-argument", "mapped-dict-inputs", "nested", "kept-as-is"],
)
def test_params_count_follows_a_parameters_mapping(
    nodes: list[Any], params: dict[str, Any], name: str
) -> None:
    assert _instance_count(nodes, params, name) == 3


def test_an_unrelated_mapped_parameter_does_not_become_the_count() -> None:
    trainer = _trainer(Framework.PyTorch, "params:num_nodes")
    nodes = _mapped(trainer, ["raw", "params:epochs"], {"epochs": "global_epochs"})
    assert nodes[0].inputs == ["raw", "params:global_epochs"]
    assert _instance_count(nodes, {"global_epochs": 10, "ns": {"num_nodes": 2}}, "ns.train") == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"global_nodes": 0}, "num_nodes must be a positive integer, got 0."),
        ({"global_nodes": "2"}, "num_nodes must be a positive integer, got '2'."),
        (
            {},
            "num_nodes='params:num_nodes' names a parameter that does not exist"
            " (looked for global_nodes, ns.num_nodes, num_nodes).",
        ),
    ],
    ids=["zero", "string", "missing"],
)
def test_bad_mapped_count_names_the_node(params: dict[str, Any], message: str) -> None:
    nodes = _mapped(train_with_count, COUNT_AND_RATE, {"num_nodes": "global_nodes"})
    with pytest.raises(CompileError) as error:
        _compile(nodes, params=params)
    assert str(error.value) == f"Node 'ns.train': {message}"
