"""``run --dry-run``: what ``run`` would create in the workspace, after all of its checks."""

from __future__ import annotations

from typing import Any

from kedro_azureml.config import AzureMLConfig


def print_dry_run(
    console: Any, compiled: Any, config: AzureMLConfig, manifest: Any, datastore: str | None
) -> None:
    """Print the job ``run`` would create (and the datastore and code it would register)."""
    job = compiled.job
    console.print(
        "Dry run: every check passed; nothing was created, uploaded or registered.",
        highlight=False,
    )
    if datastore:
        console.print(f"Would register datastore {datastore}", highlight=False)
    if manifest is not None:
        console.print(
            f"Would upload the code: {len(manifest.files)} files from {manifest.root}",
            highlight=False,
        )
    console.print(
        f"Would create job '{job.display_name}' in experiment {config.azure.experiment_name} "
        f"with {len(job.jobs)} steps:",
        highlight=False,
    )
    for name, step in job.jobs.items():
        nodes = (step.tags or {}).get("kedro_nodes") or getattr(step.component, "tags", {}).get(
            "kedro_nodes", ""
        )
        limits = getattr(step, "limits", None)
        timeout = f", timeout {limits.timeout}s" if limits and limits.timeout else ""
        console.print(
            f"  {name} on {step.compute or job.compute}{timeout}: {nodes}", highlight=False
        )
    for port, value in (job.inputs or {}).items():
        console.print(f"  input {port} = {getattr(value, '_data', value)!r}", highlight=False)
    tags = ", ".join(f"{k}={v}" for k, v in sorted((job.tags or {}).items()))
    console.print(f"  tags: {tags}", highlight=False)
