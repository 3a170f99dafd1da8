"""The lines a failed step's log tail shows: the traceback's start, its last frames and the whole
exception message, which often spans lines (a dataset's description, then the path not found)."""

from __future__ import annotations

from pathlib import Path

from kedro_azureml.local.report import error_tail

LOG = """\
[12/01/26 06:35:41] INFO     Loading data from numbers (CSVDataset)...
Traceback (most recent call last):
  File "/x/kedro/io/core.py", line 391, in load
    raise DatasetError(message) from exc
DatasetError: numbers: Failed while loading data from dataset
CSVDataset(filepath=PurePosixPath('/snap/demo/data/01_raw/numbers.csv'), protocol='file').
[Errno 2] No such file or directory: '/snap/demo/data/01_raw/numbers.csv'
[12/01/26 06:35:42] WARNING  Some warning logged after the failure
                             on two lines
"""


def test_the_whole_exception_message_and_not_the_warnings_after_it(tmp_path: Path) -> None:
    log = tmp_path / "step.log"
    log.write_text(LOG)
    tail = error_tail(log)
    assert tail[0] == "Traceback (most recent call last):"
    assert tail[-1] == "[Errno 2] No such file or directory: '/snap/demo/data/01_raw/numbers.csv'"
    assert not any("WARNING" in line for line in tail)


def test_a_log_without_traceback_shows_its_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "step.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert error_tail(log, max_lines=3) == ["line 97", "line 98", "line 99"]
