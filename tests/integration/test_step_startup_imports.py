"""What a step pays at start-up: importing the serialization module loads no data library.

A fresh interpreter is needed to see what an import loads, so this runs in a subprocess.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_import_does_not_load_data_libraries(tmp_path: Path) -> None:
    """Every step imports the module at start-up; pandas and friends load only on demand."""
    code = (
        "import sys, kedro_azureml.step.serialization as s\n"
        "s.save_object({'a': 1}, sys.argv[1])\n"
        "assert s.load_object(sys.argv[1]) == {'a': 1}\n"
        "heavy = {'pandas', 'numpy', 'pyarrow', 'fsspec', 'cloudpickle'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
