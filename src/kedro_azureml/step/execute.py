"""What an Azure ML step runs: the step's Kedro node(s), inside one Kedro session.

Kept free of the Azure SDK on purpose: every step on every cluster pays this module's start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kedro_azureml.contract.node_selection import decode_node_selection
from kedro_azureml.contract.storage_paths import METADATA_FILE
from kedro_azureml.distributed.ranks import is_distributed_master_node
from kedro_azureml.distributed.teardown import release_process_group
from kedro_azureml.errors import KedroAzureMLError, StepDataError
from kedro_azureml.step.hooks import StepBinding, step_hook
from kedro_azureml.step.step_data import write_marker

logger = logging.getLogger(__name__)


def with_param_inputs(
    params: dict[str, Any], param_inputs: Sequence[tuple[str, str, str]]
) -> dict[str, Any]:
    """``params`` with each pipeline input's value (``--param-input PATH TYPE TEXT``) applied.

    Azure ML writes the input's current value into the command as text; it wins over the
    compiled ``--params``, which held the value the job was compiled with.
    """
    from kedro_azureml.contract.param_inputs import deep_merge, nest, parse_value

    merged = dict(params)
    for path, kind, text in param_inputs:
        merged = deep_merge(merged, nest(path, parse_value(text, kind, path)))
    return merged


def execute_step(
    project_path: Path,
    *,
    env: str | None,
    pipeline_name: str,
    node_names: list[str],
    inputs: dict[str, str],
    outputs: dict[str, str],
    params: dict[str, Any] | None = None,
    load_versions: dict[str, str] | None = None,
    bootstrap: bool = True,
    node_selection: str | None = None,
) -> None:
    """Run ``node_names`` of ``pipeline_name``, reading and writing the step's folders.

    A step of many nodes gets them as ``node_selection``, a reference into the pipeline's
    node names (see ``contract.node_selection``), instead of ``node_names``.
    """
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    if bootstrap:  # the kedro CLI has already done it when it runs our command
        bootstrap_project(project_path)
    if node_selection is not None:
        from kedro.framework.project import pipelines

        all_nodes = (node.name for node in pipelines[pipeline_name].nodes)
        node_names = decode_node_selection(pipeline_name, all_nodes, node_selection)
    for folder in outputs.values():
        Path(folder).mkdir(parents=True, exist_ok=True)
    binding = StepBinding(inputs=inputs, outputs=outputs)
    if not is_distributed_master_node():
        from kedro.framework.project import pipelines

        step_pipeline = pipelines[pipeline_name].only_nodes(*node_names)
        binding.master_saves = set(step_pipeline.outputs())
    with (
        step_hook.armed(binding),
        KedroSession.create(
            project_path=project_path, env=env, runtime_params=params or None
        ) as session,
    ):
        try:
            session.run(  # type: ignore[call-arg]
                **_pipeline_argument(session, pipeline_name),
                node_names=node_names,
                load_versions=load_versions,
            )
        except SystemExit as exc:
            error = _early_exit(exc, binding, outputs)
            if exc.code not in (None, 0):
                logger.error("%s", error)
                raise  # a failure already: keep the node's exit code
            raise error from None  # exit 0 would pass a step whose outputs are missing
    release_process_group()
    missing = sorted((set(inputs) | set(outputs)) - set(binding.applied))
    if missing:
        raise KedroAzureMLError(
            "The kedro-azureml hook did not run, so these datasets were not bound to the "
            f"step's folders: {', '.join(missing)}. Is 'kedro-azureml-next' listed in "
            "DISABLE_HOOKS_FOR_PLUGINS in settings.py? Remove it from there."
        )
    for name in binding.in_place:
        if name in outputs:
            write_marker(Path(outputs[name]), {"format": "in-place", "dataset": name})
    if is_distributed_master_node():  # the other ranks leave writing to rank 0
        _check_outputs_written(outputs, binding)


def _unwritten(outputs: dict[str, str], binding: StepBinding) -> list[str]:
    """Declared outputs without a completion marker (data assets are Azure ML's folders)."""
    return sorted(
        name
        for name, folder in outputs.items()
        if name not in binding.assets and not (Path(folder) / METADATA_FILE).is_file()
    )


def _check_outputs_written(outputs: dict[str, str], binding: StepBinding) -> None:
    """A step exits 0 only when every declared output is complete: never an empty output."""
    unwritten = _unwritten(outputs, binding)
    if unwritten:
        raise StepDataError(
            f"The step finished but did not write its output(s) {', '.join(unwritten)}: "
            "no completion marker in their folders. Did a node exit before returning them?"
        )


def _early_exit(exc: SystemExit, binding: StepBinding, outputs: dict[str, str]) -> StepDataError:
    node = f"Node '{binding.running_node}'" if binding.running_node else "A node"
    unwritten = _unwritten(outputs, binding)
    lost = f"; output(s) not written: {', '.join(unwritten)}" if unwritten else ""
    return StepDataError(
        f"{node} called sys.exit({exc.code!r}) before the step finished{lost}. A node must "
        "return its outputs (or raise an exception to fail): the step fails."
    )


def _pipeline_argument(session: Any, pipeline_name: str) -> dict[str, Any]:
    """``pipeline_names=[...]`` where Kedro has it (it logs ``pipeline_name`` as deprecated
    into every step log), ``pipeline_name=`` on the Kedro 1.x releases before it."""
    import inspect

    if "pipeline_names" in inspect.signature(session.run).parameters:
        return {"pipeline_names": [pipeline_name]}
    return {"pipeline_name": pipeline_name}
