"""A step killed while it writes its output folder leaves nothing a reader takes for complete.

A real writer process is killed with SIGKILL mid-write (the unit tests of step_data cover the
in-process rules).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DatasetError

from kedro_azureml.contract.storage_paths import METADATA_FILE
from kedro_azureml.errors import StepDataError
from kedro_azureml.step.step_data import StepFolderDataset

CSV = {"type": "pandas.CSVDataset", "filepath": "data/02_intermediate/table.csv"}

KILLED_WRITER = """
import json, sys, pandas as pd, numpy as np
from kedro_azureml.step.step_data import StepFolderDataset
catalog_config = json.loads(sys.argv[2])
rows = 4_000_000 if catalog_config is None else 400_000  # a CSV writes ~20x slower
frame = pd.DataFrame(np.random.default_rng(0).random((rows, 8)))
dataset = StepFolderDataset(name="big", folder=sys.argv[1], catalog_config=catalog_config)
print("writing", flush=True)
dataset.save(frame)
print("done", flush=True)
"""


@pytest.mark.parametrize("catalog_config", [None, CSV], ids=["object", "catalog-csv"])
@pytest.mark.parametrize("delay", [0.05, 0.3], ids=["early", "mid-write"])
def test_step_killed_mid_write_leaves_nothing_readable(
    tmp_path: Path, delay: float, catalog_config: dict[str, str] | None
) -> None:
    folder = tmp_path / "big"
    if catalog_config is not None:  # a complete earlier run, being rewritten when killed
        StepFolderDataset(name="big", folder=str(folder), catalog_config=CSV).save(
            pd.DataFrame({"old": [1]})
        )
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(KILLED_WRITER),
            str(folder),
            json.dumps(catalog_config),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "writing"
    time.sleep(delay)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    # Whatever was written, a reader either sees a complete object or a clear error.
    dataset = StepFolderDataset(name="big", folder=str(folder), catalog_config=catalog_config)
    if (folder / METADATA_FILE).exists():  # the write won the race: it must then be whole
        assert dataset.load().shape == ((4_000_000, 8) if catalog_config is None else (400_000, 8))
    else:
        with pytest.raises(DatasetError, match="incomplete") as error:
            dataset.load()
        assert isinstance(error.value.__cause__, StepDataError)
