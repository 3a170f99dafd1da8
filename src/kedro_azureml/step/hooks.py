"""The Kedro hook that points a step's boundary datasets at its Azure ML folders.

It is registered for every project through the ``kedro.hooks`` entry point, and does nothing
unless ``kedro azureml execute`` armed it for the current process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kedro.framework.hooks import hook_impl


@dataclass
class StepBinding:
    """Folders of the datasets that cross this step's boundary, by Kedro dataset name."""

    inputs: dict[str, str]
    outputs: dict[str, str]
    applied: list[str] = field(default_factory=list)
    in_place: list[str] = field(default_factory=list)  # read and written where they live
    assets: list[str] = field(default_factory=list)  # data assets: Azure ML's folders, no marker
    running_node: str | None = None  # the node being run, to name it when it exits the process
    # On the non-master ranks of a distributed step: the step's outputs, which rank 0 saves.
    master_saves: set[str] = field(default_factory=set)


class AzureMLStepHook:
    def __init__(self) -> None:
        self.binding: StepBinding | None = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._context = context

    # Last, so it binds the datasets other plugins' hooks have finished (kedro-mlflow names its
    # metric datasets here).
    @hook_impl(trylast=True)
    def after_catalog_created(self, catalog: Any) -> None:
        if self.binding is None:
            return
        with _quiet_replacements():
            self._bind(catalog)

    def _bind(self, catalog: Any) -> None:
        assert self.binding is not None
        from kedro_azureml.contract.routing import (
            Route,
            resolve_dataset_config,
            route_dataset,
            travelling_config,
        )
        from kedro_azureml.step.step_data import StepFolderDataset

        folders = {**self.binding.inputs, **self.binding.outputs}
        for name, folder in sorted(folders.items()):
            config = resolve_dataset_config(catalog, name)
            route = route_dataset(name, config)
            self.binding.applied.append(name)
            if route.route is Route.ASSET:  # Azure ML mounts the asset version itself
                catalog[name] = catalog.get(name).with_folder(folder)
                self.binding.assets.append(name)
                continue
            if route.route is Route.MLFLOW_RUN and config:
                from kedro_azureml.step.mlflow_reference import MlflowRunReferenceDataset

                catalog[name] = MlflowRunReferenceDataset(
                    name=name, folder=folder, dataset=catalog.get(name), config=config
                )
                continue
            if not route.can_travel:
                self.binding.in_place.append(name)  # its folder only orders the steps
                continue
            catalog_config = (
                travelling_config(config) if route.route is Route.LOCAL_FILE and config else None
            )
            catalog[name] = StepFolderDataset(
                name=name, folder=folder, catalog_config=catalog_config
            )
        self._leave_saving_to_master(catalog)

    def _leave_saving_to_master(self, catalog: Any) -> None:
        from kedro_azureml.step.step_data import MasterSavesDataset, StepFolderDataset

        assert self.binding is not None
        for name in sorted(self.binding.master_saves):
            dataset = catalog.get(name) if name in catalog else None
            if dataset is not None and not isinstance(dataset, StepFolderDataset):
                catalog[name] = MasterSavesDataset(dataset, name)

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        if self.binding is not None:
            self.binding.running_node = node.name

    @hook_impl
    def before_pipeline_run(self, run_params: Any, pipeline: Any, catalog: Any) -> None:
        if self.binding is None:
            with _quiet_replacements():
                self._give_assets_a_workspace(pipeline, catalog)

    def _give_assets_a_workspace(self, pipeline: Any, catalog: Any) -> None:
        """Outside a step (plain `kedro run`), data assets download from azureml.yml's workspace.

        Looks at the pipeline's own datasets, so entries made by dataset factories count too.
        """
        from kedro_azureml.contract.routing import resolve_dataset_config

        names = []
        for name in sorted(pipeline.datasets()):
            entry = resolve_dataset_config(catalog, name) or {}
            if str(entry.get("type", "")).endswith("AzureMLAssetDataset") and not entry.get(
                "workspace"
            ):
                names.append(name)
        context = getattr(self, "_context", None)
        if not names or context is None:
            return
        from pathlib import Path

        from kedro_azureml.project.kedro_project import load_plugin_config

        loader = context.config_loader
        config = load_plugin_config(loader, context.env or "local", Path(loader.conf_source))
        workspace = config.workspace()
        for name in names:
            catalog[name] = catalog.get(name).with_workspace(workspace)

    @contextmanager
    def armed(self, binding: StepBinding) -> Iterator[StepBinding]:
        self.binding = binding
        try:
            yield binding
        finally:
            self.binding = None


class _ReplacementFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Replacing dataset")


@contextmanager
def _quiet_replacements() -> Iterator[None]:
    """Binding a step replaces catalog entries on purpose: no "Replacing dataset" warning
    per dataset in every step log, where it reads like a problem."""
    catalog_logger = logging.getLogger("kedro.io.data_catalog")
    quiet = _ReplacementFilter()
    catalog_logger.addFilter(quiet)
    try:
        yield
    finally:
        catalog_logger.removeFilter(quiet)


step_hook = AzureMLStepHook()
