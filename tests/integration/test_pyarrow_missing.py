"""A data frame saved between steps when pyarrow is missing: the fallback to cloudpickle is
said once in the step log. Runs in a child interpreter, where pyarrow can be hidden."""

from __future__ import annotations

import json
import subprocess
import sys

PYARROW_MISSING = """
import json, logging, sys, tempfile
sys.modules["pyarrow"] = None  # as if pyarrow were not installed
records = []
logging.getLogger("kedro_azureml").addHandler(type("H", (logging.Handler,), {"emit": lambda self, r: records.append(r.getMessage())})())
import pandas as pd
from kedro_azureml.step.serialization import save_object
folder = tempfile.mkdtemp()
formats = [save_object(pd.DataFrame({"x": [i]}), f"{folder}/{i}") for i in range(3)]
print(json.dumps({"formats": formats, "records": records}))
"""


def test_a_frame_without_pyarrow_is_said_once_in_the_log() -> None:
    # Before: only the metadata file next to the data knew.
    out = subprocess.run(
        [sys.executable, "-c", PYARROW_MISSING], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout)
    assert result["formats"] == ["cloudpickle"] * 3
    (record,) = result["records"]
    assert "pyarrow is not installed" in record
    assert 'pip install "kedro-azureml-next[parquet]"' in record
