"""The second venv that holds kedro-mlflow, and `kedro` driven from it in subprocesses.

kedro-mlflow 2.0.x registers its hooks in every Kedro project of the environment it is
installed in, so it never goes into the test venv: `make kedro-mlflow-venv` (a dependency of
`make test`) builds `.venv-kedro-mlflow` with the plugin (editable), kedro-mlflow and the
example's requirements. Tests that need it are skipped, saying so, when it is absent.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.kedro_projects import REPO, kedro, quiet_env

VENV = Path(os.environ.get("KEDRO_MLFLOW_VENV", REPO / ".venv-kedro-mlflow"))
KEDRO = VENV / "bin" / "kedro"

needs_kedro_mlflow_venv = pytest.mark.skipif(
    not (VENV / ".installed").is_file() or not KEDRO.is_file(),
    reason=(
        f"kedro-mlflow lives in its own venv, {VENV}, which is absent: build it with "
        "`make kedro-mlflow-venv` (`make test` does)."
    ),
)


def kedro_with_mlflow(
    project: Path, *args: str, **options: Any
) -> subprocess.CompletedProcess[str]:
    """Run `kedro ARGS` in ``project`` from the kedro-mlflow venv, as its user would."""
    return kedro(project, *args, bin_dir=KEDRO.parent, **{"timeout": 1800, **options})


_DUMP_STORE = r"""
import json, sys
from mlflow.tracking import MlflowClient

client = MlflowClient(sys.argv[1])
tree = {"experiments": {}, "runs": {}, "models": []}
experiments = client.search_experiments()
for experiment in experiments:
    tree["experiments"][experiment.experiment_id] = experiment.name
ids = list(tree["experiments"])
for run in client.search_runs(ids, max_results=1000):
    tree["runs"][run.info.run_id] = {
        "name": run.info.run_name,
        "experiment": tree["experiments"][run.info.experiment_id],
        "status": run.info.status,
        "params": run.data.params,
        "metrics": run.data.metrics,
        "tags": {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")
                 or k == "mlflow.parentRunId"},
        "artifacts": sorted(a.path for a in client.list_artifacts(run.info.run_id)),
    }
for model in client.search_logged_models(ids):
    tree["models"].append(
        {"name": model.name, "model_id": model.model_id, "source_run_id": model.source_run_id}
    )
print(json.dumps(tree))
"""


def store_tree(tracking_uri: str) -> dict:
    """Experiments, runs and logged models of an MLflow store, read with the venv's MLflow."""
    result = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", _DUMP_STORE, tracking_uri],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=quiet_env(),
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]
