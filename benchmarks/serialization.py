"""Benchmark the step-boundary object formats on a numeric and a mixed DataFrame.

For each frame and method it prints write and read speed (MB/s of in-memory size), bytes
written, and a modelled end-to-end time: encode + bytes / bandwidth + decode, the bandwidth
standing for the network between an Azure ML node and blob storage. cloudpickle+bz2 is
timed on a sample and scaled linearly: at ~10 MB/s it would take minutes on 1 GB.

    python benchmarks/serialization.py --size-mb 200
"""

from __future__ import annotations

import argparse
import bz2
import datetime
import gc
import os
import pickle
import platform
import shutil
import statistics
import string
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kedro_azureml.step import serialization

NUMERIC_COLUMNS = 20


def numeric_frame(size_mb: float, seed: int = 0) -> pd.DataFrame:
    """Random float64s: the incompressible case."""
    rng = np.random.default_rng(seed)
    rows = int(size_mb * 1e6 / (8 * NUMERIC_COLUMNS))
    values = rng.standard_normal((rows, NUMERIC_COLUMNS))
    return pd.DataFrame(values, columns=[f"f{i}" for i in range(NUMERIC_COLUMNS)])


def mixed_frame(size_mb: float, seed: int = 0) -> pd.DataFrame:
    """Ids, repeated strings, a few categories, floats, booleans and free text."""
    rng = np.random.default_rng(seed)
    letters = list(string.ascii_lowercase)
    words = np.array(["".join(rng.choice(letters, rng.integers(3, 10))) for _ in range(5000)])
    cities = np.array([f"city_{i:04d}" for i in range(2000)])

    def build(rows: int) -> pd.DataFrame:
        text = [" ".join(row) for row in words[rng.integers(0, len(words), (rows, 8))]]
        return pd.DataFrame(
            {
                "id": np.arange(rows, dtype="int64"),
                "city": cities[rng.integers(0, len(cities), rows)],
                "status": pd.Categorical(rng.choice(["new", "open", "closed", "void"], rows)),
                "segment": pd.Categorical(rng.choice(list("ABCDEFGH"), rows)),
                "amount": rng.gamma(2.0, 50.0, rows).round(2),
                "score": rng.standard_normal(rows),
                "flag": rng.random(rows) < 0.3,
                "comment": text,
            }
        )

    probe = build(10_000)
    per_row = probe.memory_usage(deep=True).sum() / len(probe)
    return build(int(size_mb * 1e6 / per_row))


def _file_writer(dump: Callable[[Any, Any], None]) -> Callable[[Any, str], None]:
    def write(obj: Any, folder: str) -> None:
        with open(os.path.join(folder, "data"), "wb") as f:
            dump(obj, f)

    return write


def _file_reader(load: Callable[[Any], Any]) -> Callable[[str], Any]:
    def read(folder: str) -> Any:
        with open(os.path.join(folder, "data"), "rb") as f:
            return load(f)

    return read


def _parquet(compression: str) -> tuple[Callable[[Any, str], None], Callable[[str], Any]]:
    def write(obj: Any, folder: str) -> None:
        table = pa.Table.from_pandas(obj, preserve_index=None)
        pq.write_table(table, os.path.join(folder, "data"), compression=compression)

    def read(folder: str) -> Any:
        return pq.read_table(os.path.join(folder, "data")).to_pandas()

    return write, read


def _save_ours(obj: Any, folder: str) -> None:
    serialization.save_object(obj, folder)


def _bz2_dump(obj: Any, f: Any) -> None:
    f.write(bz2.compress(cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)))


METHODS: dict[str, tuple[Callable[[Any, str], None], Callable[[str], Any]]] = {
    "ours (auto)": (
        _save_ours,
        lambda folder: serialization.load_object(folder),
    ),
    "cloudpickle": (
        _file_writer(lambda obj, f: cloudpickle.dump(obj, f)),
        _file_reader(pickle.load),
    ),
    "cloudpickle+bz2": (
        _file_writer(_bz2_dump),
        _file_reader(lambda f: pickle.loads(bz2.decompress(f.read()))),
    ),
    "parquet-snappy": _parquet("snappy"),
    "parquet-zstd": _parquet("zstd"),
    "pickle5": (
        _file_writer(lambda obj, f: pickle.dump(obj, f, protocol=5)),
        _file_reader(pickle.load),
    ),
}


def _folder_bytes(folder: str) -> int:
    return sum(os.path.getsize(os.path.join(folder, name)) for name in os.listdir(folder))


def measure(
    method: str, frame: pd.DataFrame, workdir: str, repeats: int, warm_up: bool = True
) -> tuple[float, float, int]:
    """Median write and read seconds, and bytes written."""
    write, read = METHODS[method]
    writes, reads, size = [], [], 0
    for run in range(repeats + warm_up):  # Run 0 warms up (imports, allocator) and is not counted.
        folder = tempfile.mkdtemp(dir=workdir)
        os.sync()  # Start clean: no earlier run's dirty pages being flushed during this one.
        start = time.perf_counter()
        write(frame, folder)
        write_s = time.perf_counter() - start
        size = _folder_bytes(folder)
        start = time.perf_counter()
        loaded = read(folder)
        read_s = time.perf_counter() - start
        assert loaded.shape == frame.shape
        del loaded
        shutil.rmtree(folder)
        gc.collect()
        if run or not warm_up:
            writes.append(write_s)
            reads.append(read_s)
    return statistics.median(writes), statistics.median(reads), size


def decision_ms(frame: pd.DataFrame, repeats: int = 5) -> tuple[float, str]:
    """Time of the Parquet-or-pickle decision alone, and its recorded reason."""
    times: list[float] = []
    meta: dict[str, Any] = {}
    for _ in range(repeats):
        meta = {}
        start = time.perf_counter()
        serialization._prefers_parquet(frame, meta)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, str(meta.get("choice"))


def bench_frame(name: str, frame: pd.DataFrame, args: argparse.Namespace, workdir: str) -> None:
    size_mb = frame.memory_usage(deep=True).sum() / 1e6
    rows: dict[str, tuple[float, float, float]] = {}  # write s, read s, MB written
    for method in METHODS:
        if method == "cloudpickle+bz2":
            sample_rows = max(1, int(len(frame) * min(1.0, args.bz2_sample_mb / size_mb)))
            sample = frame.iloc[:sample_rows]
            scale = len(frame) / sample_rows
            write_s, read_s, size = measure(method, sample, workdir, 1, warm_up=False)
            rows[method] = (write_s * scale, read_s * scale, size * scale / 1e6)
        else:
            write_s, read_s, size = measure(method, frame, workdir, args.repeats)
            rows[method] = (write_s, read_s, size / 1e6)
        print(f"  measured {name} {method}", file=sys.stderr, flush=True)

    def e2e(method: str) -> float:
        write_s, read_s, mb = rows[method]
        return write_s + mb / args.bandwidth_mbps + read_s

    best_name = min(["cloudpickle", "parquet-snappy"], key=e2e)
    best, slow = e2e(best_name), e2e("cloudpickle+bz2")
    ms, reason = decision_ms(frame)
    ours_write = rows["ours (auto)"][0]
    print(f"\n### {name} frame: {size_mb:.0f} MB in memory, {len(frame):,} rows\n")
    print(f"ours chose: {reason}; decision took {ms:.1f} ms ({ms / 1e3 / ours_write:.1%} of")
    print(f"our write time). Best of cloudpickle and parquet-snappy: {best_name}.\n")
    print(
        "| method | write MB/s | read MB/s | MB written | end-to-end s "
        f"@{args.bandwidth_mbps:.0f} MB/s | vs best-of | speed-up vs bz2 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for method, (write_s, read_s, mb) in rows.items():
        note = " (sample, scaled)" if method == "cloudpickle+bz2" else ""
        print(
            f"| {method}{note} | {size_mb / write_s:.0f} | {size_mb / read_s:.0f} | {mb:.1f} | "
            f"{e2e(method):.2f} | {e2e(method) / best:.2f}x | {slow / e2e(method):.0f}x |"
        )
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=1024)
    parser.add_argument("--bz2-sample-mb", type=float, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bandwidth-mbps", type=float, default=200.0)
    parser.add_argument("--dir", default=None, help="work folder on local disk (default: tmp)")
    args = parser.parse_args()

    print(f"# Serialization benchmark, {datetime.datetime.now().isoformat(timespec='seconds')}\n")
    print(
        f"Machine: {os.cpu_count()} CPUs, {platform.platform()}, python "
        f"{platform.python_version()}, pandas {pd.__version__}, pyarrow {pa.__version__}, "
        f"numpy {np.__version__}, cloudpickle {cloudpickle.__version__}; load average "
        f"{os.getloadavg()[0]:.1f} at start (other work on the machine skews the numbers)."
    )
    print(
        f"Medians of {args.repeats} runs after a warm-up (1 run for bz2). MB/s are of the in-memory size. "
        f"End-to-end = write + bytes / {args.bandwidth_mbps:.0f} MB/s + read. cloudpickle+bz2 "
        f"is measured on the first {args.bz2_sample_mb:.0f} MB of rows and scaled linearly. "
        "Files go to local disk and are read back warm (page cache)."
    )
    workdir = tempfile.mkdtemp(prefix="kedro-azureml-bench-", dir=args.dir)
    try:
        for name, build in (("numeric", numeric_frame), ("mixed", mixed_frame)):
            bench_frame(name, build(args.size_mb), args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
