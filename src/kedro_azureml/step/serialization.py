"""Save and load the in-memory objects that cross an Azure ML step boundary.

Every such object lives alone in a folder: one data file plus ``_kedro_azureml.json``, the
metadata that names the format. The format is chosen per object, because one format does not
fit all: pickling a 1 GB frame with bz2 takes minutes, while Parquet can be previewed in Azure
ML Studio and is often several times smaller on the wire, and plain pickle is the fastest for
incompressible numbers. Loading reads the metadata and never guesses.

The metadata is written last and atomically, so a folder is complete exactly when it has
metadata and a data file of the recorded size. A step killed half-way leaves a folder that
:func:`load_object` refuses with :class:`~kedro_azureml.errors.StepDataError`.

pandas, numpy and pyarrow are imported only when such an object is saved or loaded: every
step imports this module at start-up, and most steps must not pay for them.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import pickle
import sys
import uuid
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from kedro_azureml.contract.storage_paths import METADATA_FILE, marker_stamp
from kedro_azureml.errors import StepDataError

if TYPE_CHECKING:
    import fsspec
    import pandas as pd
    import pyarrow as pa

FILES = {
    "parquet": "data.parquet",
    "npy": "data.npy",
    "json": "data.json",
    "cloudpickle": "data.pkl",
}
logger = logging.getLogger(__name__)
PICKLE_PROTOCOL = 5
JSON_MAX_BYTES = 1_000_000
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "compression_level": 1}
"""zstd level 1: on string-heavy frames the file is ~40% smaller than with snappy for ~25%
more encode time, a good trade when the bytes go over a ~200 MB/s network."""

# The cost model behind the Parquet-or-pickle choice; speeds in MB/s of in-memory bytes,
# measured on a 2-core VM (pandas 3.1, pyarrow 26); see benchmarks/serialization.py.
BANDWIDTH_MBPS = 200.0
PICKLE_ENCODE_MBPS, PICKLE_DECODE_MBPS = 3000.0, 2500.0
PARQUET_ENCODE_MBPS, PARQUET_DECODE_MBPS = 350.0, 1200.0
SMALL_FRAME_BYTES = 1_000_000
"""Below this a frame always tries Parquet: the time at stake is milliseconds, and Parquet
can be previewed and read without Python."""
SAMPLE_BYTES = 256_000
SAMPLE_BLOCKS = 4


class _Folder:
    """A folder on the local disk (``fs is None``) or on an fsspec filesystem."""

    def __init__(self, folder: str, fs: fsspec.AbstractFileSystem | None) -> None:
        if fs is not None and "file" in _protocols(fs):
            fs = None  # fsspec's local filesystem: use os.replace for atomic writes.
        self.folder = folder
        self.fs = fs

    def path(self, name: str) -> str:
        if self.fs is None:
            return os.path.join(self.folder, name)
        return f"{self.folder.rstrip('/')}/{name}"

    def makedirs(self) -> None:
        if self.fs is None:
            os.makedirs(self.folder, exist_ok=True)
        else:
            self.fs.makedirs(self.folder, exist_ok=True)

    def size(self, name: str) -> int | None:
        """The file's size, or None when it does not exist."""
        try:
            if self.fs is None:
                return os.path.getsize(self.path(name))
            return int(self.fs.size(self.path(name)))
        except (FileNotFoundError, NotADirectoryError):
            return None

    def remove(self, name: str) -> None:
        if self.fs is None:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path(name))
        elif self.fs.exists(self.path(name)):
            self.fs.rm_file(self.path(name))

    def write(self, name: str, writer: Callable[[IO[bytes]], None]) -> int:
        """Write a file so that it appears whole or not at all; return its size.

        Locally via a temporary name and ``os.replace``; a blob upload is atomic by itself.
        """
        target = self.path(name)
        if self.fs is not None:
            with self.fs.open(target, "wb") as f:
                writer(f)
            return int(self.fs.size(target))
        partial = self.path(f".{name}.{uuid.uuid4().hex}.partial")
        try:
            with open(partial, "wb") as f:
                writer(f)
            os.replace(partial, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(partial)
        return os.path.getsize(target)

    def source(self, name: str) -> Any:
        """What pyarrow, numpy and pickle can read from: a path, or the bytes of a blob
        fetched in one request (faster than the many ranged reads of a remote file)."""
        if self.fs is None:
            return self.path(name)
        return io.BytesIO(self.fs.cat_file(self.path(name)))


def _protocols(fs: fsspec.AbstractFileSystem) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def _incomplete(folder: str, why: str) -> StepDataError:
    return StepDataError(
        f"The object in {folder} is incomplete ({why}): the step that produces it did not "
        "finish writing it. Re-run that step."
    )


def _read_metadata(store: _Folder) -> dict[str, Any] | None:
    try:
        if store.fs is None:
            with open(store.path(METADATA_FILE), "rb") as f:
                raw = f.read()
        else:
            raw = store.fs.cat_file(store.path(METADATA_FILE))
    except (FileNotFoundError, NotADirectoryError):
        return None
    meta = json.loads(raw)
    return meta if isinstance(meta, dict) else None


def object_exists(folder: str, fs: fsspec.AbstractFileSystem | None = None) -> bool:
    """True only when a complete object is there: metadata plus a data file of its size."""
    store = _Folder(folder, fs)
    try:
        meta = _read_metadata(store)
    except ValueError:
        return False
    if meta is None or meta.get("format") not in FILES:
        return False
    return store.size(FILES[meta["format"]]) == meta.get("bytes")


def save_object(obj: Any, folder: str, fs: fsspec.AbstractFileSystem | None = None) -> str:
    """Save ``obj`` alone into ``folder`` in the format that suits it; return that format.

    The old metadata goes first, so an interrupted overwrite leaves a folder that reads as
    incomplete rather than one that mixes old and new; the new metadata goes last.
    """
    store = _Folder(folder, fs)
    store.makedirs()
    store.remove(METADATA_FILE)
    meta: dict[str, Any] = {"python_type": f"{type(obj).__module__}.{type(obj).__qualname__}"}
    fmt, writer = _plan(obj, meta)
    try:
        size = store.write(FILES[fmt], writer)
    except Exception as exc:
        if fmt == "cloudpickle":
            raise
        meta["fallback"] = {"from": fmt, "reason": f"{type(exc).__name__}: {exc}"[:500]}
        store.remove(FILES[fmt])
        fmt, writer = "cloudpickle", _pickle_writer(obj)
        size = store.write(FILES[fmt], writer)
    for other in FILES:
        if other != fmt:
            store.remove(FILES[other])  # Leftovers of an older object in another format.
    meta.update(format=fmt, file=FILES[fmt], bytes=size, versions=_versions(), **marker_stamp())
    payload = json.dumps(meta, indent=2, sort_keys=True, default=str).encode()
    store.write(METADATA_FILE, _bytes_writer(payload))
    return fmt


def load_object(folder: str, fs: fsspec.AbstractFileSystem | None = None) -> Any:
    """Load the object :func:`save_object` put in ``folder``, in the recorded format."""
    store = _Folder(folder, fs)
    try:
        meta = _read_metadata(store)
    except ValueError as exc:
        raise _incomplete(folder, f"{METADATA_FILE} is not valid JSON: {exc}") from exc
    if meta is None:
        raise _incomplete(folder, f"no {METADATA_FILE}")
    fmt = meta.get("format")
    if fmt not in FILES:
        raise StepDataError(
            f"{folder} holds format {fmt!r}, which kedro_azureml.step.serialization cannot load."
        )
    size = store.size(FILES[fmt])
    if size != meta.get("bytes"):
        found = "missing" if size is None else f"{size} bytes"
        raise _incomplete(folder, f"{FILES[fmt]} is {found}, expected {meta.get('bytes')}")
    try:
        return _LOADERS[fmt](store.source(FILES[fmt]), meta)
    except Exception as exc:
        raise StepDataError(
            f"Cannot load {fmt} object from {folder}: {type(exc).__name__}: {exc}. It was "
            f"written with {meta.get('versions')}; this step runs {_versions()}."
        ) from exc


# --- choosing the format -------------------------------------------------------------------


def _plan(obj: Any, meta: dict[str, Any]) -> tuple[str, Callable[[IO[bytes]], None]]:
    """Pick the format for ``obj`` and return it with a writer; notes go into ``meta``."""
    data = _json_bytes(obj)
    if data is not None:
        return "json", _bytes_writer(data)
    np = sys.modules.get("numpy")  # If numpy is not loaded, obj cannot be an array.
    if np is not None and type(obj) is np.ndarray and not obj.dtype.hasobject:
        return "npy", lambda f: np.save(f, obj, allow_pickle=False)
    pd = sys.modules.get("pandas")
    if pd is not None and type(obj) in (pd.DataFrame, pd.Series):
        table = _parquet_table(obj, meta)
        if table is not None:
            import pyarrow.parquet as pq

            return "parquet", lambda f: pq.write_table(table, f, **PARQUET_OPTIONS)
    return "cloudpickle", _pickle_writer(obj)


def _bytes_writer(data: bytes) -> Callable[[IO[bytes]], None]:
    def write(f: IO[bytes]) -> None:
        f.write(data)

    return write


def _pickle_writer(obj: Any) -> Callable[[IO[bytes]], None]:
    import cloudpickle

    return lambda f: cloudpickle.dump(obj, f, protocol=PICKLE_PROTOCOL)


def _json_bytes(obj: Any) -> bytes | None:
    """The JSON encoding of ``obj`` if it round-trips exactly and is small, else None.

    Exact types only: a tuple, a numpy float or an int-keyed dict would come back changed.
    """
    budget = [JSON_MAX_BYTES // 2]  # Nodes to visit before giving up as "too big".

    def plain(value: Any) -> bool:
        budget[0] -= 1
        if budget[0] < 0:
            return False
        kind = type(value)
        if kind in (str, int, bool) or value is None:
            return True
        if kind is float:
            return value == value and value not in (float("inf"), float("-inf"))
        if kind is list:
            return all(plain(item) for item in value)
        if kind is dict:
            return all(type(k) is str and plain(v) for k, v in value.items())
        return False

    try:
        if not plain(obj):
            return None
    except RecursionError:
        return None
    data = json.dumps(obj, indent=1, ensure_ascii=False).encode()
    return data if len(data) < JSON_MAX_BYTES else None


def _parquet_table(obj: pd.DataFrame | pd.Series, meta: dict[str, Any]) -> pa.Table | None:
    """The Arrow table to write as Parquet, or None when pickle is the better format.

    Parquet is taken when it round-trips the frame exactly and the cost model (encode +
    transfer + decode) says it is no slower than pickle; the reason is put in ``meta``.
    """
    import pandas as pd

    if not _pyarrow_available():
        meta["choice"] = "pickle: pyarrow is not installed"
        return None
    if int(pd.__version__.split(".", 1)[0]) < 3:
        meta["choice"] = PANDAS_2_CHOICE
        return None
    if isinstance(obj, pd.Series):
        name = obj.name
        if not (name is None or type(name) in (str, int)):
            meta["choice"] = "pickle: the Series name is not a str or int"
            return None
        frame = obj.to_frame(name="series")
    else:
        frame = obj
    if not _prefers_parquet(frame, meta):
        return None
    try:
        table = _to_arrow(frame)
    except Exception as exc:
        meta["fallback"] = {"from": "parquet", "reason": f"{type(exc).__name__}: {exc}"[:500]}
        return None
    meta["rows"] = table.num_rows
    if isinstance(obj, pd.Series):
        meta["series"] = {"name": obj.name}
    elif isinstance(frame.columns, pd.RangeIndex):  # Parquet gives back an int64 Index
        columns = frame.columns
        meta["range_columns"] = [columns.start, columns.stop, columns.step]
    return table


# Which frames Parquet gives back exactly is worked out for pandas 3 (its Arrow-backed str
# dtype); pandas 2 (the only pandas on Python 3.10) keeps labels and strings as object, so
# every frame travels pickled there: exact, only larger.
PANDAS_2_CHOICE = "pickle: pandas < 3 (Parquet is used with pandas 3, Python 3.11+)"

_PYARROW: list[bool] = []  # found or not, looked up (and said) once per process


def _pyarrow_available() -> bool:
    """Whether Parquet can be written; without pyarrow, say so once (not per frame)."""
    if not _PYARROW:
        try:
            import pyarrow  # noqa: F401  # Parquet needs it next anyway.
        except ImportError:
            _PYARROW.append(False)
        else:
            _PYARROW.append(True)
        if not _PYARROW[0]:
            logger.warning(
                "pyarrow is not installed, so DataFrames that cross steps are written with "
                "cloudpickle instead of Parquet: larger and slower for big frames, and not "
                'readable outside Python. Install it with `pip install "kedro-azureml-next[parquet]"` '
                "in the steps' environment."
            )
    return _PYARROW[0]


def _prefers_parquet(frame: pd.DataFrame, meta: dict[str, Any]) -> bool:
    """The cheap rule: dtypes first, then, for large frames that are not all floats, a
    compressibility sample fed to the cost model. The reason is put in ``meta``."""
    problem = _parquet_problem(frame)
    if problem:
        meta["choice"] = f"pickle: {problem}"
        return False
    floats = all(dtype.kind == "f" for dtype in frame.dtypes)
    if floats:
        nbytes = float(len(frame) * sum(dtype.itemsize for dtype in frame.dtypes))
    else:
        nbytes = _estimated_bytes(frame)
    if nbytes < SMALL_FRAME_BYTES:
        meta["choice"] = "parquet: small frame"
        return True
    if floats:  # Computed floats rarely compress; Parquet costs ~10x pickle's CPU for them.
        meta["choice"] = "pickle: only float columns, which Parquet hardly compresses"
        return False
    try:
        ratio = _sampled_size_ratio(frame, nbytes)
    except Exception as exc:  # Parquet cannot take the frame at all.
        meta["fallback"] = {"from": "parquet", "reason": f"{type(exc).__name__}: {exc}"[:500]}
        return False
    pays = _parquet_pays_off(ratio)
    meta["choice"] = f"{'parquet' if pays else 'pickle'}: sampled size ratio {ratio:.2f}"
    return pays


def _parquet_pays_off(ratio: float) -> bool:
    """Whether Parquet's encode + transfer + decode beats pickle's, per in-memory byte.

    ``ratio`` is Parquet bytes over pickle bytes. With the constants above Parquet pays off
    below a ratio of about 0.41: it must save on the wire what it costs in CPU.
    """
    pickle_cost = 1 / PICKLE_ENCODE_MBPS + 1 / BANDWIDTH_MBPS + 1 / PICKLE_DECODE_MBPS
    parquet_cost = 1 / PARQUET_ENCODE_MBPS + ratio / BANDWIDTH_MBPS + 1 / PARQUET_DECODE_MBPS
    return parquet_cost <= pickle_cost


def _estimated_bytes(frame: pd.DataFrame) -> float:
    """In-memory size, from the deep size of the first rows (deep over all rows is slow)."""
    head = frame.iloc[:100]
    if len(head) == 0:
        return 0.0
    return float(head.memory_usage(deep=True).sum()) / len(head) * len(frame)


def _sampled_size_ratio(frame: pd.DataFrame, nbytes: float) -> float:
    """Parquet bytes / pickle bytes on a few blocks of rows spread over the frame.

    Blocks rather than random rows keep runs and sort order, which Parquet exploits; the
    size of an empty frame is taken off both so fixed overhead does not skew the sample.
    Single-threaded: on a sample, starting threads costs more than it saves.
    """
    import numpy as np
    import pyarrow.parquet as pq

    n = len(frame)
    per_block = max(64, int(n * SAMPLE_BYTES / nbytes / SAMPLE_BLOCKS))
    if per_block * SAMPLE_BLOCKS >= n:
        sample = frame
    else:
        starts = np.linspace(0, n - per_block, SAMPLE_BLOCKS).astype(np.int64)
        sample = frame.take(np.concatenate([np.arange(s, s + per_block) for s in starts]))
    table = _to_arrow(sample, threads=False)
    sizes = []
    for part, frame_part in ((table, sample), (table.slice(0, 0), sample[:0])):
        buffer = io.BytesIO()
        pq.write_table(part, buffer, write_statistics=False, **PARQUET_OPTIONS)
        sizes.append((buffer.tell(), len(pickle.dumps(frame_part, protocol=PICKLE_PROTOCOL))))
    (parquet_full, pickle_full), (parquet_empty, pickle_empty) = sizes
    return max(parquet_full - parquet_empty, 1) / max(pickle_full - pickle_empty, 1)


def _parquet_problem(frame: pd.DataFrame) -> str | None:
    """Why Parquet would not give this frame back exactly, or None if it would."""
    if frame.attrs:
        return "the frame has attrs"
    if len(frame.columns) == 0 and len(frame) > 0:
        return "rows without columns (Parquet keeps no rows then)"
    if len(frame) == 0 and "category" in {str(dtype) for dtype in _all_dtypes(frame)}:
        return "no rows and a categorical column or index (Parquet drops the categories)"
    return _columns_problem(frame) or _index_problem(frame.index)


def _columns_problem(frame: pd.DataFrame) -> str | None:
    import pandas as pd

    if not frame.columns.is_unique:
        return "duplicate column labels"
    columns = frame.columns
    if isinstance(columns, pd.MultiIndex):
        if not all(_is_default_str(level.dtype) for level in columns.levels):
            return "column labels are not all strings of dtype str"
    elif not (_is_default_str(columns.dtype) or columns.dtype == "int64"):
        return "column labels are not all strings of dtype str or all ints"
    for label, dtype in frame.dtypes.items():
        if not _dtype_roundtrips(dtype):
            return f"column {label!r} has dtype {dtype}"
    return None


def _index_problem(index: pd.Index) -> str | None:
    import pandas as pd

    if isinstance(index, pd.RangeIndex):
        return None
    if getattr(index, "freq", None) is not None:
        return "the index has a freq"
    levels = index.levels if isinstance(index, pd.MultiIndex) else [index]
    for level in levels:
        if not _dtype_roundtrips(level.dtype) or level.dtype == "object":
            return f"the index has dtype {level.dtype}"
    return None


def _is_default_str(dtype: Any) -> bool:
    """pandas' default ``str`` dtype (Arrow-backed, NaN for missing): the only string dtype
    that column labels come back with."""
    import pandas as pd

    return (
        isinstance(dtype, pd.StringDtype)
        and dtype.storage == "pyarrow"
        and dtype.na_value is not pd.NA
    )


def _all_dtypes(frame: pd.DataFrame) -> list[Any]:
    index = frame.index
    levels = [level.dtype for level in index.levels] if hasattr(index, "levels") else []
    return [*frame.dtypes, index.dtype, *levels]


def _dtype_roundtrips(dtype: Any) -> bool:
    """Whether pyarrow gives back a column of this dtype unchanged (checked case by case)."""
    import datetime
    import zoneinfo

    import pandas as pd

    if isinstance(dtype, pd.CategoricalDtype):
        # Integer categories come back as plain integers.
        return isinstance(dtype.categories.dtype, pd.StringDtype) and _dtype_roundtrips(
            dtype.categories.dtype
        )
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"  # Python-backed strings come back Arrow-backed.
    if isinstance(dtype, pd.ArrowDtype):
        return str(dtype.pyarrow_dtype) != "string"  # Comes back as StringDtype.
    if isinstance(dtype, pd.SparseDtype):
        return False
    if isinstance(dtype, pd.DatetimeTZDtype):
        # Parquet has no seconds unit: [s] comes back as [ms]. A time zone comes back as
        # its name, read by zoneinfo: a dateutil or pytz zone would change type.
        return dtype.unit != "s" and isinstance(dtype.tz, zoneinfo.ZoneInfo | datetime.timezone)
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        return True  # Nullable, period and interval dtypes.
    if dtype.kind in "Mm":
        return bool(dtype.name[-3:] != "[s]")
    return dtype.kind in "biufO"  # object columns are checked after conversion.


def _to_arrow(frame: pd.DataFrame, threads: bool = True) -> pa.Table:
    """Convert to Arrow, refusing object columns that would come back as another dtype.

    Object columns of str, int or datetime come back as str, int64 or datetime64 columns,
    and dicts come back with extra keys; bytes, dates and decimals come back as they were.
    """
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=None, nthreads=None if threads else 1)
    for position, (label, dtype) in enumerate(frame.dtypes.items()):
        if dtype == "object":
            kind = table.schema.field(position).type
            if not (
                pa.types.is_binary(kind)
                or pa.types.is_large_binary(kind)
                or pa.types.is_decimal(kind)
                or pa.types.is_date(kind)
            ):
                raise TypeError(f"object column {label!r} would come back as {kind}")
            _check_object_column(label, frame.iloc[:, position], kind)
    return table


def _check_object_column(label: Any, column: pd.Series, kind: pa.DataType) -> None:
    """Raise when Arrow's ``kind`` would give back other values than the object column's.

    Arrow reads every missing value as None, a datetime among dates as a date, and every
    decimal with the column's one scale (1.1 comes back as 1.10).
    """
    import datetime

    import pyarrow as pa

    missing = column.isna()
    if any(value is not None for value in column[missing]):
        raise TypeError(f"object column {label!r}: NaN, NA or NaT would come back as None")
    values = column[~missing]
    if pa.types.is_date(kind) and any(type(value) is not datetime.date for value in values):
        raise TypeError(f"object column {label!r} mixes dates with datetimes")
    if pa.types.is_decimal(kind) and any(
        value.as_tuple().exponent != -kind.scale for value in values
    ):
        raise TypeError(f"object column {label!r} holds decimals of different scales")


# --- loading ----------------------------------------------------------------------------------


def _load_parquet(source: Any, meta: dict[str, Any]) -> Any:
    import pyarrow.parquet as pq

    frame = pq.read_table(source).to_pandas()
    if "range_columns" in meta:
        import pandas as pd

        frame.columns = pd.RangeIndex(*meta["range_columns"], name=frame.columns.name)
    if "series" in meta:
        series = frame["series"]
        series.name = meta["series"]["name"]
        return series
    return frame


def _load_npy(source: Any, meta: dict[str, Any]) -> Any:
    import numpy as np

    return np.load(source, allow_pickle=False)


def _load_json(source: Any, meta: dict[str, Any]) -> Any:
    if isinstance(source, str):
        with open(source, "rb") as f:
            return json.load(f)
    return json.load(source)


def _load_pickle(source: Any, meta: dict[str, Any]) -> Any:
    import cloudpickle  # noqa: F401  # Objects pickled by value need it to be importable.

    if isinstance(source, str):
        with open(source, "rb") as f:
            return pickle.load(f)
    return pickle.load(source)


_LOADERS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {
    "parquet": _load_parquet,
    "npy": _load_npy,
    "json": _load_json,
    "cloudpickle": _load_pickle,
}


def _versions() -> dict[str, str]:
    """Versions of the libraries loaded in this process that data formats depend on: a
    pickled frame, say, needs a compatible pandas to load."""
    versions = {"python": ".".join(map(str, sys.version_info[:3]))}
    for name in ("cloudpickle", "numpy", "pandas", "pyarrow"):
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = str(getattr(module, "__version__", "?"))
    return versions
