"""Make the docs' example run report: `run --local` of the example, report.html and its logs.

    python docs/scripts/example_run.py      (or: make docs-examples)

Runs the spaceflights example in a temporary copy (the same as `make demo`, with MLflow off)
and copies what the run wrote that the docs show, report.html and the step logs it links,
into docs/examples/run/. Paths of this machine in the logs become <project> and <python>.
Commit the result: a docs build does not run the pipeline (it would take half a minute).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "spaceflights"
TARGET = ROOT / "docs" / "examples" / "run"
BIN = Path(sys.executable).parent


def main() -> None:
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1", "COLUMNS": "100"}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    with tempfile.TemporaryDirectory(prefix="kedro-azureml-example-") as folder:
        project = Path(
            shutil.copytree(
                EXAMPLE,
                Path(folder) / "spaceflights",
                ignore=shutil.ignore_patterns(".kedro-azureml", "__pycache__", "mlruns"),
            )
        )
        subprocess.run([sys.executable, "scripts/generate_data.py"], cwd=project, check=True)
        subprocess.run(
            [str(BIN / "kedro"), "azureml", "run", "--local", "--no-mlflow"],
            cwd=project,
            env=env,
            check=True,
        )
        run = sorted((project / ".kedro-azureml" / "runs").iterdir())[-1]
        shutil.rmtree(TARGET, ignore_errors=True)
        (TARGET / "logs").mkdir(parents=True)
        replacements = {str(project): "<project>", sys.prefix: "<python>"}
        for log in sorted((run / "logs").glob("*.log")):
            text = log.read_text()
            for old, new in replacements.items():
                text = text.replace(old, new)
            (TARGET / "logs" / log.name).write_text(text)
        shutil.copy2(run / "report.html", TARGET / "report.html")
        summary = json.loads((run / "summary.json").read_text())
    print(f"Wrote {TARGET}: {len(summary['steps'])} steps, succeeded={summary['succeeded']}")


if __name__ == "__main__":
    main()
