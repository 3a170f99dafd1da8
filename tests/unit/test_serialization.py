"""Objects that cross a step boundary: format choice, exact round-trips, incomplete folders."""

from __future__ import annotations

import datetime
import decimal
import json
import os
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pytest

from kedro_azureml.contract.storage_paths import METADATA_FILE
from kedro_azureml.errors import StepDataError
from kedro_azureml.step import serialization
from kedro_azureml.step.serialization import load_object, object_exists, save_object

# pandas 2 (Python 3.10's, in the lowest-versions lane) pickles every frame: see PANDAS_2_CHOICE.
PANDAS_2 = int(pd.__version__.split(".", 1)[0]) < 3
FRAME_FORMAT = "cloudpickle" if PANDAS_2 else "parquet"
needs_pandas_3 = pytest.mark.skipif(PANDAS_2, reason="Parquet between steps needs pandas 3")


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)


def _mixed_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype="int64"),
            "city": rng.choice(["Paris", "Oslo", "Lima", "Pune"], rows),
            "status": pd.Categorical(rng.choice(["new", "open", "closed"], rows)),
            "grade": pd.Categorical(
                rng.choice(["b", "a"], rows), categories=["c", "b", "a"], ordered=True
            ),
            "count": pd.array(rng.integers(0, 9, rows), dtype="Int64"),
            "ok": pd.array(rng.random(rows) < 0.5, dtype="boolean"),
            "label": pd.array(rng.choice(["x", "y"], rows), dtype="string"),
            "when": pd.date_range("2024-01-01", periods=rows, freq="min"),
            "when_tz": pd.date_range("2024-01-01", periods=rows, freq="h", tz="Europe/Paris"),
            "amount": rng.gamma(2.0, 50.0, rows).round(2),
            "flag": rng.random(rows) < 0.3,
        }
    ).assign(
        count=lambda f: f["count"].mask(f.index % 7 == 0),
        label=lambda f: f["label"].mask(f.index % 5 == 0),
    )


def _numeric_frame(rows: int, cols: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(rng.standard_normal((rows, cols)), columns=[f"f{i}" for i in range(cols)])


def _local_class_instance() -> Any:
    class Local:  # Not importable: cloudpickle must pickle it by value.
        def __init__(self) -> None:
            self.value = [1, 2]

        def __eq__(self, other: object) -> bool:
            return type(other).__name__ == "Local" and other.value == self.value  # type: ignore[attr-defined]

    return Local()


CASES = [
    pytest.param(_numeric_frame(100), "parquet", id="numeric-frame-small"),
    pytest.param(_numeric_frame(40_000, 8), "cloudpickle", id="numeric-frame-2.5mb"),
    pytest.param(_mixed_frame(200), "parquet", id="mixed-frame-small"),
    pytest.param(_mixed_frame(30_000), "parquet", id="mixed-frame-sampled"),
    pytest.param(_mixed_frame(50).set_index(["city", "id"]), "parquet", id="multiindex"),
    pytest.param(pd.DataFrame({0: [1.5], 1: [2.5]}), "parquet", id="int-column-labels"),
    pytest.param(pd.DataFrame(), "parquet", id="empty-frame"),
    pytest.param(
        pd.DataFrame({"o": [decimal.Decimal("1.1"), None], "d": [datetime.date(2020, 1, 1)] * 2}),
        "parquet",
        id="object-decimal-date",
    ),
    pytest.param(pd.DataFrame({"o": ["a", 1, 2.5]}), "cloudpickle", id="mixed-object-column"),
    pytest.param(
        pd.DataFrame({"o": pd.Series(["a", None], dtype=object)}), "cloudpickle", id="object-str"
    ),
    pytest.param(pd.DataFrame({"o": [{"a": 1}, {"b": 2}]}), "cloudpickle", id="object-dicts"),
    pytest.param(pd.DataFrame([[1, 2]], columns=["a", "a"]), "cloudpickle", id="duplicate-labels"),
    pytest.param(pd.DataFrame({"c": pd.Categorical([3, 1])}), "cloudpickle", id="int-categories"),
    pytest.param(
        pd.DataFrame({"t": pd.date_range("2020", periods=2).astype("datetime64[s]")}),
        "cloudpickle",
        id="datetime-seconds",
    ),
    pytest.param(
        pd.DataFrame({"a": [1, 2]}, index=pd.date_range("2020", periods=2, freq="D")),
        "cloudpickle",
        id="index-with-freq",
    ),
    pytest.param(pd.Series([1.5, None, 3.0], name="price"), "parquet", id="series"),
    pytest.param(pd.Series(["a", "b"]), "parquet", id="series-unnamed"),
    pytest.param(pd.Series([1, 2], name=("a", "b")), "cloudpickle", id="series-tuple-name"),
    pytest.param(np.arange(12, dtype="float32").reshape(3, 4), "npy", id="ndarray"),
    pytest.param(np.asfortranarray(np.ones((2, 3))), "npy", id="ndarray-fortran"),
    pytest.param(np.array([1, "a", None], dtype=object), "cloudpickle", id="ndarray-object"),
    pytest.param({"a": [1, 2.5, None], "b": {"c": True, "d": "é"}}, "json", id="dict"),
    pytest.param([1, "two", [3.0]], "json", id="list"),
    pytest.param("text", "json", id="str"),
    pytest.param(None, "json", id="none"),
    pytest.param({1: "a", 2: "b"}, "cloudpickle", id="dict-int-keys"),
    pytest.param((1, 2), "cloudpickle", id="tuple"),
    pytest.param({"x": float("nan")}, "cloudpickle", id="nan"),
    pytest.param({"x": np.float64(1.5)}, "cloudpickle", id="numpy-scalar"),
    pytest.param(list(range(300_000)), "cloudpickle", id="list-too-big-for-json"),
    pytest.param(Point(1, 2), "cloudpickle", id="custom-class"),
    pytest.param(_local_class_instance(), "cloudpickle", id="local-class"),
]


def _assert_same(loaded: Any, original: Any) -> None:
    assert type(loaded) is type(original)
    if isinstance(original, pd.DataFrame):
        pd.testing.assert_frame_equal(loaded, original)
    elif isinstance(original, pd.Series):
        pd.testing.assert_series_equal(loaded, original)
    elif isinstance(original, np.ndarray):
        np.testing.assert_array_equal(loaded, original)
        assert loaded.dtype == original.dtype
        assert loaded.flags.f_contiguous == original.flags.f_contiguous
    elif original != original:  # pragma: no cover - no NaN at the top level
        raise AssertionError
    else:
        assert repr(loaded) == repr(original) or loaded == original


def _metadata(folder: Path) -> dict[str, Any]:
    return json.loads((folder / METADATA_FILE).read_text())


@pytest.mark.parametrize(("obj", "expected_format"), CASES)
def test_round_trip(tmp_path: Path, obj: Any, expected_format: str) -> None:
    if expected_format == "parquet":
        expected_format = FRAME_FORMAT
    assert save_object(obj, str(tmp_path)) == expected_format
    assert object_exists(str(tmp_path))
    _assert_same(load_object(str(tmp_path)), obj)
    meta = _metadata(tmp_path)
    assert meta["format"] == expected_format
    assert meta["bytes"] == (tmp_path / serialization.FILES[expected_format]).stat().st_size
    assert "python" in meta["versions"]
    assert sorted(os.listdir(tmp_path)) == sorted(
        [METADATA_FILE, serialization.FILES[expected_format]]
    )


@needs_pandas_3
def test_parquet_failure_falls_back_and_is_recorded(tmp_path: Path) -> None:
    save_object(pd.DataFrame({"o": ["a", 1, 2.5]}), str(tmp_path))
    meta = _metadata(tmp_path)
    assert meta["format"] == "cloudpickle"
    assert meta["fallback"]["from"] == "parquet"
    assert meta["fallback"]["reason"]


@needs_pandas_3
def test_format_choice_is_explained(tmp_path: Path) -> None:
    save_object(_mixed_frame(30_000), str(tmp_path))
    assert _metadata(tmp_path)["choice"].startswith("parquet: sampled size ratio")
    save_object(_numeric_frame(40_000, 8), str(tmp_path))
    assert _metadata(tmp_path)["choice"].startswith("pickle: only float columns")


@pytest.mark.skipif(not PANDAS_2, reason="pandas 3 writes Parquet")
def test_pandas_2_pickles_every_frame(tmp_path: Path) -> None:
    frame = _mixed_frame(200)
    assert save_object(frame, str(tmp_path)) == "cloudpickle"
    assert _metadata(tmp_path)["choice"] == serialization.PANDAS_2_CHOICE
    pd.testing.assert_frame_equal(load_object(str(tmp_path)), frame)


def test_json_is_readable(tmp_path: Path) -> None:
    save_object({"rows": 3}, str(tmp_path))
    assert json.loads((tmp_path / "data.json").read_text()) == {"rows": 3}


def test_missing_metadata_means_unfinished(tmp_path: Path) -> None:
    (tmp_path / "data.parquet").write_bytes(b"PAR1")  # killed before the metadata
    with pytest.raises(StepDataError, match="did not finish") as info:
        load_object(str(tmp_path))
    assert str(tmp_path) in str(info.value)
    assert not object_exists(str(tmp_path))


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(StepDataError, match="did not finish"):
        load_object(str(tmp_path / "never-written"))
    assert not object_exists(str(tmp_path / "never-written"))


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[:-10]), id="truncated"),
        pytest.param(lambda p: p.unlink(), id="missing"),
    ],
)
def test_damaged_data_file(tmp_path: Path, damage: Any) -> None:
    fmt = save_object(_mixed_frame(100), str(tmp_path))
    damage(tmp_path / serialization.FILES[fmt])
    assert not object_exists(str(tmp_path))
    with pytest.raises(StepDataError, match="did not finish") as info:
        load_object(str(tmp_path))
    assert str(tmp_path) in str(info.value)


def test_unreadable_metadata(tmp_path: Path) -> None:
    save_object([1], str(tmp_path))
    (tmp_path / METADATA_FILE).write_text('{"format": "js')
    assert not object_exists(str(tmp_path))
    with pytest.raises(StepDataError, match="did not finish"):
        load_object(str(tmp_path))


def test_unknown_format(tmp_path: Path) -> None:
    (tmp_path / METADATA_FILE).write_text('{"format": "kedro-dataset"}')
    with pytest.raises(StepDataError, match="kedro-dataset"):
        load_object(str(tmp_path))


def test_overwrite_replaces_object_and_format(tmp_path: Path) -> None:
    save_object(_mixed_frame(100), str(tmp_path))
    assert save_object({"new": True}, str(tmp_path)) == "json"
    assert load_object(str(tmp_path)) == {"new": True}
    assert sorted(os.listdir(tmp_path)) == sorted([METADATA_FILE, "data.json"])


def test_interrupted_overwrite_is_not_mistaken_for_the_old_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_object({"old": True}, str(tmp_path))

    def crash(obj: Any) -> Any:
        def write(f: Any) -> None:
            f.write(b"half")
            raise KeyboardInterrupt  # the step is killed while writing

        return write

    monkeypatch.setattr(serialization, "_pickle_writer", crash)
    with pytest.raises(KeyboardInterrupt):
        save_object(Point(1, 2), str(tmp_path))
    assert not object_exists(str(tmp_path))
    with pytest.raises(StepDataError, match="did not finish"):
        load_object(str(tmp_path))
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".partial")]


def test_memory_filesystem() -> None:
    fs = fsspec.filesystem("memory")
    folder = "/kedro-azureml-test/step-a/features"
    frame = _mixed_frame(500)
    assert save_object(frame, folder, fs=fs) == FRAME_FORMAT
    assert object_exists(folder, fs=fs)
    pd.testing.assert_frame_equal(load_object(folder, fs=fs), frame)
    assert save_object(Point(3, 4), folder, fs=fs) == "cloudpickle"
    assert load_object(folder, fs=fs) == Point(3, 4)
    assert sorted(p.rsplit("/", 1)[-1] for p in fs.ls(folder, detail=False)) == [
        METADATA_FILE,
        "data.pkl",
    ]
    fs.rm_file(f"{folder}/{METADATA_FILE}")
    assert not object_exists(folder, fs=fs)
    with pytest.raises(StepDataError, match="did not finish"):
        load_object(folder, fs=fs)
    fs.rm(folder.rsplit("/", 2)[0], recursive=True)


def test_fsspec_local_filesystem_is_local(tmp_path: Path) -> None:
    fs = fsspec.filesystem("file")
    assert save_object(np.arange(3), str(tmp_path), fs=fs) == "npy"
    np.testing.assert_array_equal(load_object(str(tmp_path)), np.arange(3))
