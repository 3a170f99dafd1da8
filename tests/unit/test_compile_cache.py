"""The compile cache: a job the SDK built and validated is reused only for the very same
content, and every change of content (plan, config, options, the plugin's source) builds and
validates afresh."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kedro.pipeline import node, pipeline

import kedro_azureml.commands.compile_cache as compile_cache
import kedro_azureml.compiler.render as render
from kedro_azureml.commands.compile import compile_project
from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.config import parse_config
from kedro_azureml.errors import KedroAzureMLError


def _f(*args: Any) -> Any:
    return args[0]


def _project(tmp_path: Path, *, cluster: str = "cpu", second_output: str = "b") -> Any:
    config = parse_config(
        {
            "azure": {
                "resource_group": "rg",
                "workspace_name": "ws",
                "experiment_name": "exp",
                "compute": {"__default__": {"cluster_name": cluster}},
                "code_directory": None,
            },
            "docker": {"image": "python:3.11-slim"},
        }
    )
    pipe = pipeline(
        [node(_f, "params:p", "a", name="make_a"), node(_f, "a", second_output, name="make_b")]
    )
    return SimpleNamespace(
        path=tmp_path,
        config=config,
        env="base",
        env_origin="-e",
        params={"p": 1},
        pipeline=lambda name: pipe,
        dataset_config=lambda name: None,
        credential_secrets={},
    )


class RenderCounter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = render.render_job

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(render, "render_job", counted)


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> RenderCounter:
    monkeypatch.delenv(compile_cache.SWITCH_VARIABLE, raising=False)
    return RenderCounter(monkeypatch)


def _compile(project: Any, options: CompileOptions | None = None, **kwargs: Any) -> Any:
    return compile_project(
        project, options or CompileOptions(), yaml_dir=project.path, use_cache=True, **kwargs
    )


def test_the_same_content_reuses_the_validated_yaml_without_the_sdk(
    tmp_path: Path, renders: RenderCounter
) -> None:
    first = _compile(_project(tmp_path))
    second = _compile(_project(tmp_path))

    assert renders.count == 1
    assert first.built_job is not None and second.built_job is None
    assert second.yaml_text == first.yaml_text
    assert second.plan == first.plan
    assert len(list((tmp_path / compile_cache.CACHE_DIR).glob("*.yaml"))) == 1
    with pytest.raises(KedroAzureMLError, match="compile cache"):
        _ = second.job


@pytest.mark.parametrize(
    ("change", "options"),
    [
        ({"cluster": "gpu"}, None),  # the config
        ({"second_output": "c"}, None),  # the pipeline, hence the plan
        ({}, CompileOptions(env_vars={"A": "1"})),  # the options
        ({}, CompileOptions(params={"p": 2})),
    ],
    ids=["config", "plan", "env-var", "params"],
)
def test_any_change_of_content_builds_and_validates_again(
    tmp_path: Path, renders: RenderCounter, change: dict[str, str], options: Any
) -> None:
    first = _compile(_project(tmp_path))
    changed = _compile(_project(tmp_path, **change), options)

    assert renders.count == 2
    assert changed.built_job is not None
    assert changed.yaml_text != first.yaml_text


def test_a_change_of_the_plugin_source_builds_again(
    tmp_path: Path, renders: RenderCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    _compile(_project(tmp_path))
    monkeypatch.setattr(compile_cache, "_renderer_fingerprint", lambda: "another plugin version")
    _compile(_project(tmp_path))

    assert renders.count == 2


def test_a_tampered_entry_is_never_a_hit_of_other_content(
    tmp_path: Path, renders: RenderCounter
) -> None:
    """Keys are content hashes: an entry is found only under the key of its own content."""
    first = _compile(_project(tmp_path))
    (entry,) = (tmp_path / compile_cache.CACHE_DIR).glob("*.yaml")
    entry.unlink()
    again = _compile(_project(tmp_path))

    assert renders.count == 2
    assert again.yaml_text == first.yaml_text


def test_the_switch_turns_the_cache_off(
    tmp_path: Path, renders: RenderCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(compile_cache.SWITCH_VARIABLE, "0")
    cached = _compile(_project(tmp_path))

    def no_key(*parts: Any) -> str:
        raise AssertionError("a cache that is off needs no key (hashing the plan costs time)")

    monkeypatch.setattr(compile_cache, "compile_key", no_key)
    again = _compile(_project(tmp_path))

    assert renders.count == 2
    assert again.yaml_text == cached.yaml_text
    assert not (tmp_path / compile_cache.CACHE_DIR).exists()


def test_commands_that_need_the_sdk_job_never_use_the_cache(
    tmp_path: Path, renders: RenderCounter
) -> None:
    _compile(_project(tmp_path))
    built = compile_project(_project(tmp_path), CompileOptions(), yaml_dir=tmp_path)

    assert renders.count == 2
    assert built.job.jobs  # submit, schedule and --dry-run read the SDK job


def test_a_value_that_cannot_be_keyed_exactly_means_no_cache() -> None:
    assert compile_cache.compile_key({"x": object()}) is None
    assert compile_cache.compile_key({"x": 1}) != compile_cache.compile_key({"x": 1.0})
    assert compile_cache.compile_key({"x": True}) != compile_cache.compile_key({"x": 1})
