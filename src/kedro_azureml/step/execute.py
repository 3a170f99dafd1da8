"""What an Azure ML step runs: the step's Kedro node(s), inside one Kedro session.

Kept free of the Azure SDK on purpose: every step on every cluster pays this module's start-up.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kedro_azureml.contract.node_selection import decode_node_selection
from kedro_azureml.distributed.ranks import is_distributed_master_node
from kedro_azureml.distributed.teardown import release_process_group
from kedro_azureml.errors import KedroAzureMLError
from kedro_azureml.step.hooks import StepBinding, step_hook
from kedro_azureml.step.step_data import write_marker

logger = logging.getLogger(__name__)


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
        session.run(  # type: ignore[call-arg]
            pipeline_name=pipeline_name, node_names=node_names, load_versions=load_versions
        )
    release_process_group()
    for name in binding.in_place:
        if name in outputs:
            write_marker(Path(outputs[name]), {"format": "in-place", "dataset": name})
    missing = sorted((set(inputs) | set(outputs)) - set(binding.applied))
    if missing:
        raise KedroAzureMLError(
            "The kedro-azureml hook did not run, so these datasets were not bound to the "
            f"step's folders: {', '.join(missing)}. Is 'kedro-azureml' listed in "
            "DISABLE_HOOKS_FOR_PLUGINS in settings.py? Remove it from there."
        )
