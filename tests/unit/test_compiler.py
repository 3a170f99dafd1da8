from __future__ import annotations

import logging
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from kedro.pipeline import node, pipeline

from kedro_azureml.compiler.compile import compile_pipeline, job_yaml
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.config import parse_config
from kedro_azureml.errors import CompileError

CATALOG: dict[str, dict[str, Any]] = {
    "raw": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/raw.csv"},
    "remote": {"type": "pandas.CSVDataset", "filepath": "abfs://container/remote.csv"},
}


def _f(*args: Any) -> Any:
    return args[0]


def _pipeline():
    return pipeline(
        [
            node(_f, "raw", "a", name="make_a", tags=["chunky"]),
            node(_f, ["a", "params:p"], "ns.B", name="ns.make_b"),
            node(_f, "a", "remote", name="make_remote"),
            node(_f, ["ns.B", "remote"], "final", name="combine", tags=["deterministic"]),
        ]
    )


def _config(docker: dict[str, Any] | None = None, **azure: Any):
    data: dict[str, Any] = {
        "docker": docker or {},
        "azure": {
            "resource_group": "rg",
            "workspace_name": "ws",
            "experiment_name": "exp",
            "compute": {
                "__default__": {"cluster_name": "cpu"},
                "chunky": {"cluster_name": "cpu-8"},
            },
            "environment_name": "kedro-env@latest",
            **azure,
        },
    }
    return parse_config(data)


def _compile(pipe=None, config=None, **options: Any):
    options.setdefault("code", ".")
    return compile_pipeline(
        pipe or _pipeline(),
        config or _config(),
        CompileOptions(**options),
        CATALOG.get,
        grouping="none",
    )


def test_one_step_per_node_with_wiring() -> None:
    plan, job = _compile()
    names = [s.name for s in plan.steps]
    assert sorted(names) == ["combine", "make_a", "make_remote", "ns_make_b"]
    assert names[0] == "make_a" and names[-1] == "combine"  # topological order
    by_name = {s.name: s for s in plan.steps}
    assert by_name["make_a"].outputs == {"a": "a"}
    assert by_name["ns_make_b"].inputs == {"a": "a"}
    assert by_name["ns_make_b"].outputs == {"ns.B": "ns_b"}
    # a remote dataset is read in place; its port only orders the steps
    assert by_name["combine"].inputs == {"ns.B": "ns_b", "remote": "remote"}
    assert plan.job_outputs == {"final": "final"}
    data = yaml.safe_load(job_yaml(job, CompileOptions(code=".")))
    assert data["jobs"]["combine"]["inputs"]["ns_b"] == {
        "path": "${{parent.jobs.ns_make_b.outputs.ns_b}}"
    }
    assert data["jobs"]["combine"]["outputs"]["final"] == "${{parent.outputs.final}}"


def test_decisions_explain_every_dataset() -> None:
    plan, _ = _compile()
    decisions = {name: d.decision for name, d in plan.datasets.items()}
    assert decisions == {
        "a": "travels through the producing step's output folder",
        "final": "job output",
        "ns.B": "travels through the producing step's output folder",
        "params:p": "not data: passed as a parameter",
        "raw": "pipeline input: comes with the code snapshot or image",
        "remote": "written and read in place; an empty output orders the steps",
    }


def test_commands_compute_env_vars_and_determinism() -> None:
    _, job = _compile(env="base", env_vars={"B": "2", "A": "1"}, params={"p": "it's $HOME"})
    step = job.jobs["ns_make_b"]
    tokens = shlex.split(step.command.replace("${{", "<").replace("}}", ">"))
    assert tokens[:5] == ["kedro", "azureml", "execute", "--env", "base"]
    assert tokens[tokens.index("--node") + 1] == "ns.make_b"
    assert tokens[tokens.index("--az-input") + 1 : tokens.index("--az-input") + 3] == [
        "a",
        "<inputs.a>",
    ]
    assert tokens[tokens.index("--params") + 1] == '{"p": "it\'s $HOME"}'
    assert step.compute == "cpu"
    assert job.jobs["make_a"].compute == "cpu-8"
    assert step.environment_variables == {"A": "1", "B": "2"}
    assert job.jobs["combine"].component.is_deterministic is True
    assert job.jobs["make_a"].component.is_deterministic is False


def test_yaml_is_byte_identical_and_loads_back(tmp_path: Path) -> None:
    from azure.ai.ml import load_job

    options = CompileOptions(code=".", env="base")
    first = job_yaml(_compile(env="base")[1], options)
    second = job_yaml(_compile(env="base")[1], options)
    assert first == second
    path = tmp_path / "pipeline.yaml"
    path.write_text(first)
    loaded = load_job(path)
    assert set(loaded.jobs) == {"make_a", "ns_make_b", "make_remote", "combine"}
    assert loaded._validate().passed
    data = yaml.safe_load(first)
    assert data["jobs"]["make_a"]["component"]["code"] == "."
    assert str(tmp_path) not in first


def test_image_is_wrapped_as_environment_and_docker_flow_cds() -> None:
    config = _config({"image": "acr.io/img:1"}, code_directory=None, environment_name=None)
    _, job = _compile(config=config, code=None)
    step = job.jobs["make_a"]
    assert step.environment.image == "acr.io/img:1"
    assert step.command.startswith("cd /home/kedro_docker && kedro azureml execute")
    assert step.code is None


@pytest.mark.parametrize(
    ("docker", "azure", "command", "code", "environment"),
    [
        ({}, {}, "kedro azureml execute", ".", "azureml:kedro-env@latest"),
        ({"image": "acr.io/img:1"}, {}, "kedro azureml execute", ".", "azureml:kedro-env@latest"),
        (
            {"image": "acr.io/img:1"},
            {"code_directory": None},
            "cd /home/kedro_docker && kedro azureml execute",
            None,
            "acr.io/img:1",
        ),
    ],
    ids=["code-upload", "code-upload-with-an-image-configured", "docker-image"],
)
def test_the_config_alone_decides_the_flow_with_default_options(
    docker: dict[str, Any], azure: dict[str, Any], command: str, code: Any, environment: str
) -> None:
    # Default CompileOptions() used to give a code-upload config a docker-flow command
    # ("cd /home/kedro_docker && ..." in a registered environment, with no code).
    _, job = compile_pipeline(_pipeline(), _config(docker, **azure), CompileOptions(), CATALOG.get)
    for step in job.jobs.values():
        assert step.command.startswith(f"{command} --pipeline __default__ --node ")
        assert step.code == code
        assert getattr(step.environment, "image", step.environment) == environment


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_compiling_shows_no_experimental_notices_and_leaves_the_sdk_logger_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from azure.ai.ml._utils import _experimental

    # The SDK logs each notice once per process: forget the ones other tests triggered.
    monkeypatch.setattr(_experimental, "_warning_cache", set())
    logger = logging.getLogger(_experimental.__name__)  # the SDK's logger does not propagate
    records = _Records()
    logger.addHandler(records)
    try:
        # Importing the compiler used to set this logger to ERROR for the whole process.
        assert logger.level == logging.NOTSET
        _, job = _compile()
        job_yaml(job, CompileOptions(code="."))
        assert logger.level == logging.NOTSET
        # (Only the process's first validation builds the schemas that log these notices;
        # the integration test of `kedro azureml compile` checks them in a fresh process.)
        assert [m for m in records.messages if "experimental" in m] == []
    finally:
        logger.removeHandler(records)


def test_compiling_never_walks_the_stack_for_the_sdk_notices_and_restores_its_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The SDK's check before each notice reads every frame's source (~0.1 s a call)."""
    import inspect

    from azure.ai.ml._utils import _experimental

    from kedro_azureml.contract.sdk_warnings import quiet_sdk

    original = _experimental._should_skip_warning
    monkeypatch.setattr(_experimental, "_warning_cache", set())

    def no_stack(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("inspect.stack() called while compiling")

    monkeypatch.setattr(inspect, "stack", no_stack)
    _, job = _compile()
    job_yaml(job, CompileOptions(code="."))
    with quiet_sdk():
        assert _experimental._should_skip_warning() is True
    # Outside our calls the SDK's own check is back, for an application's own SDK use.
    assert _experimental._should_skip_warning is original
    assert _experimental._warning_cache == set()  # skipped notices are not marked as shown


def test_aml_env_override_is_a_registered_environment() -> None:
    _, job = _compile(aml_env="other:7")
    assert job.jobs["make_a"].environment == "azureml:other:7"


@pytest.mark.parametrize("value", ["other", "other@prod", "other:"])
def test_aml_env_override_without_version_is_a_compile_error(value: str) -> None:
    with pytest.raises(CompileError, match=f"--aml-env '{value}'.*name@latest or name:version"):
        _compile(aml_env=value)


def test_name_clash_is_a_compile_error() -> None:
    pipe = pipeline([node(_f, "raw", "x.y", name="a.b"), node(_f, "x.y", "z", name="a_b")])
    with pytest.raises(CompileError, match=r"'a\.b' and 'a_b' both become 'a_b'"):
        _compile(pipe)


def test_two_compute_tags_is_a_compile_error() -> None:
    config = _config(
        compute={
            "__default__": {"cluster_name": "c1"},
            "chunky": {"cluster_name": "c8"},
            "gpu": {"cluster_name": "g1"},
        }
    )
    pipe = pipeline([node(_f, "raw", "x", name="n", tags=["chunky", "gpu"])])
    with pytest.raises(CompileError, match="Node 'n' has the tags chunky, gpu"):
        _compile(pipe, config)


def test_undeclared_free_input_is_a_compile_error() -> None:
    pipe = pipeline([node(_f, "nowhere", "x", name="n")])
    with pytest.raises(
        CompileError, match="'nowhere' is read by the pipeline but no node produces it"
    ):
        _compile(pipe)
