"""Kedro's run filters (``kedro run --nodes/--from-nodes/...``) applied to a job's pipeline.

Applied with Kedro's own ``Pipeline.filter``, so a job selects exactly the nodes ``kedro run``
would with the same filters. A job's filters and the command line's each select nodes of the
registered pipeline, and the job runs the nodes both select: the command line narrows a job.

A filtered pipeline may read data that only a left-out node makes. Such data must already
exist where the steps run (a file in the project that goes up with the code, remote storage,
or a data asset); otherwise the compile stops and names the dataset and the node that makes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from typing import Any

from kedro_azureml.contract.routing import Route, dataset_path, route_dataset, travelling_config
from kedro_azureml.errors import CompileError

# Pipeline.filter's keyword -> the `kedro run` option of the same meaning.
FILTER_OPTIONS = {
    "node_names": "--nodes",
    "from_nodes": "--from-nodes",
    "to_nodes": "--to-nodes",
    "from_inputs": "--from-inputs",
    "to_outputs": "--to-outputs",
    "node_namespaces": "--namespaces",
    "tags": "--tags",
}


def describe_filters(filters: Mapping[str, list[str]], *, as_options: bool) -> str:
    """``--to-nodes a,b --tags x`` (command line) or ``to_nodes: [a, b]`` (config)."""
    if as_options:
        return " ".join(f"{FILTER_OPTIONS[k]} {','.join(v)}" for k, v in filters.items())
    return ", ".join(f"{k}: [{', '.join(v)}]" for k, v in filters.items())


def filter_pipeline(
    pipeline: Any,
    *,
    pipeline_name: str,
    job_filters: Mapping[str, list[str]],
    cli_filters: Mapping[str, list[str]],
    job_name: str | None = None,
) -> Any:
    """The nodes of ``pipeline`` that both the job's and the command line's filters select."""
    selected = pipeline
    sources = (
        (
            f"jobs.{job_name}.pipeline ({describe_filters(job_filters, as_options=False)})",
            job_filters,
        ),
        (f"the command line ({describe_filters(cli_filters, as_options=True)})", cli_filters),
    )
    for source, filters in sources:
        if not filters:
            continue
        try:
            selected = selected & pipeline.filter(**filters)
        except ValueError as exc:
            reason = str(exc).split(" Please ensure")[0].rstrip(".")
            raise CompileError(
                f"The filters of {source} select nothing from pipeline '{pipeline_name}': "
                f"{reason}. Check the names against `kedro registry describe {pipeline_name}`."
            ) from None
    if not selected.nodes:
        raise CompileError(
            f"The filters of {sources[0][0]} and {sources[1][0]} together select no node of "
            f"pipeline '{pipeline_name}': the command line narrows a job's selection. Loosen "
            "one of them."
        )
    return selected


def local_file(config: dict[str, Any] | None) -> str | None:
    """The project-relative file or folder a LOCAL_FILE dataset is read from, if it has one."""
    if not config:
        return None
    if str(config.get("type", "")).endswith("AzureMLPipelineDataset"):
        inner = config.get("dataset")
        located = dataset_path(inner) if isinstance(inner, dict) else None
        root = config.get("root_dir")
        if located is None or not isinstance(root, str):
            return None
        return str(PurePosixPath(root) / located[1])
    located = dataset_path(travelling_config(config))
    return located[1] if located else None


def check_cut_inputs(
    full: Any,
    selected: Any,
    dataset_config: Callable[[str], dict[str, Any] | None],
    available: Callable[[str], str | None],
) -> None:
    """Every dataset ``selected`` reads but that only a left-out node makes must exist already.

    ``available(path)`` says why a project file would be missing where the steps run (None
    when it is there): the compiler itself does no I/O.
    """
    makers = {dataset: node for node in full.nodes for dataset in node.outputs}
    kept = {node.name for node in selected.nodes}
    for dataset in sorted(selected.inputs()):
        maker = makers.get(dataset)
        if maker is None or maker.name in kept:
            continue  # a raw input, or made by a selected node (Kedro's inputs() excludes those)
        config = dataset_config(dataset)
        route = route_dataset(dataset, config)
        if route.route in (Route.IN_PLACE, Route.ASSET, Route.PARAMETER):
            continue  # read in place: it exists wherever the steps run, if it exists at all
        path = local_file(config) if route.route is Route.LOCAL_FILE else None
        if path is None:
            why = "it lives in memory, so nothing holds it when the job starts"
        else:
            problem = available(path)
            if problem is None:
                continue
            why = f"its file {path} {problem}"
        readers = sorted(n.name for n in selected.nodes if dataset in n.inputs)
        raise CompileError(
            f"Dataset '{dataset}' is read by node '{readers[0]}', but node '{maker.name}' that "
            f"makes it is left out by the filters, and {why}. Include node '{maker.name}' "
            f"(e.g. with --from-nodes {maker.name}), or make '{dataset}' exist beforehand: a "
            "file in the project, remote storage or an Azure ML data asset in the catalog."
        )
