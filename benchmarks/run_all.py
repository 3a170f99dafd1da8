"""Run every kedro-azureml benchmark, print one markdown report and write benchmarks/RESULTS.md.

    python benchmarks/run_all.py            # about 15 minutes on 2 cores
    python benchmarks/run_all.py --quick    # fewer sizes and repeats, for a smoke check

What it measures (medians over repeats, each command in a fresh process, as a user runs it):
- `kedro azureml compile` wall time and peak RSS on layered pipelines of 10..1000 nodes;
- `kedro azureml compile` of a 5000-node chain, fan-in and fan-out (linear whatever the shape);
- steps per pipeline under each grouping strategy;
- `kedro azureml execute` of one trivial node against `kedro run --nodes` of that node;
- `kedro --help` and `kedro run --nodes` inside a project with and without the plugin's
  entry points;
- `kedro azureml run --local` of the example project against a plain `kedro run`;
- `kedro azureml run --local` (default settings, and with --cold-start) of a project in the
  shape of the official spaceflights-pandas starter (9 nodes, no namespaces, raw data of the
  starter's size) against a plain `kedro run`;
- `kedro azureml compile` side by side with the original plugin, kedro-azureml 1.0.0 (PyPI,
  GetInData), installed by this script in its own venv under benchmarks/.original-plugin/
  (git-ignored), on the same generated pipelines;
- benchmarks/serialization.py --size-mb 1024 (frames of about 1 GB), when present;
- benchmarks/secret_scan.py: the pre-submit snapshot walk and secret scan of a 5000-file,
  200 MB tree.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import generate

from kedro_azureml.contract.grouping_strategies import GROUPING_STRATEGIES as STRATEGIES
from tests.support.starter_project import STARTER_ROWS, starter_project

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EXAMPLE = REPO / "examples" / "spaceflights"
KEDRO = str(generate.BIN / "kedro")

# `kedro` with the plugin's entry points filtered out: same interpreter, same venv, same other
# plugins. Kedro has no switch to disable a CLI plugin (DISABLE_HOOKS_FOR_PLUGINS is for hooks
# only), and a second venv would differ in more than the plugin. Both sides of the comparison
# run through this wrapper, so its own cost cancels out.
KEDRO_WRAPPER = """
import importlib.metadata as metadata, sys
real = metadata.entry_points
def entry_points(**kwargs):
    found = real(**kwargs)
    if sys.argv[1] == "without":
        found = metadata.EntryPoints(
            [ep for ep in found if not ep.value.startswith("kedro_azureml")]
        )
    return found
metadata.entry_points = entry_points
del sys.argv[1]
sys.argv[0] = "kedro"
from kedro.framework.cli import main
main()
"""

RUSAGE_WRAPPER = """
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
wall = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"{wall} {peak} {code}")
"""


def measure(argv: Sequence[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh process running ``argv``."""
    out = subprocess.run(
        [sys.executable, "-c", RUSAGE_WRAPPER, *argv],
        cwd=cwd,
        env=generate.quiet_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout.split()
    wall, peak_kb, code = float(out[0]), int(out[1]), int(out[2])
    if code != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {code} in {cwd}")
    return wall, peak_kb / 1024


def median_of(argv: Sequence[str], cwd: Path, repeats: int) -> tuple[float, float]:
    runs = [measure(argv, cwd) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def steps_of(project: Path, strategy: str) -> int:
    out = generate.kedro(project, "azureml", "compile", "--group-by", strategy, "-o", "p.yaml")
    match = re.search(r"\((\d+) steps\)", out.stdout)
    return int(match.group(1)) if match else -1


def bench_compile(parent: Path, sizes: Sequence[int], repeats: int) -> list[list[str]]:
    project = generate.new_project(parent)
    measured = []
    for size in sizes:
        generate.write_pipeline(project, size)
        generate.kedro(project, "azureml", "compile", "-o", "warm.yaml")  # bytecode, caches
        # --group-by none: one step per node, the compiler's worst case (N nodes -> N steps).
        wall, peak = median_of(
            [KEDRO, "azureml", "compile", "--group-by", "none", "-o", "p.yaml"], project, repeats
        )
        steps = {s: steps_of(project, s) for s in STRATEGIES}
        measured.append((size, wall, peak, steps))
        print(f"  compile {size}: {wall:.2f}s {peak:.0f}MB steps {steps}", flush=True)
    # The headline ratio is 1000 nodes / 100 nodes; without 100, the smallest size.
    baseline = next((wall for size, wall, _, _ in measured if size == 100), measured[0][1])
    return [
        [
            str(size),
            f"{wall:.2f}",
            f"{wall / baseline:.2f}",
            f"{peak:.0f}",
            *(str(steps[s]) for s in STRATEGIES),
        ]
        for size, wall, peak, steps in measured
    ]


def bench_shapes(parent: Path, count: int, repeats: int) -> list[list[str]]:
    """Compile time of one shape against another of the same size: a cost that grows with
    one node's inputs or outputs (fan-in, fan-out) rather than with nodes + edges shows here."""
    project = generate.new_project(parent)
    rows = []
    for shape in ("chain", "fan-in", "fan-out"):
        generate.write_pipeline(project, count, shape)
        argv = [KEDRO, "azureml", "compile", "--group-by", "none", "-o", "p.yaml"]
        measure(argv, project)  # warm-up: bytecode and file caches
        wall, peak = median_of(argv, project, repeats)
        rows.append((shape, wall, peak))
        print(f"  compile {shape} of {count}: {wall:.2f}s {peak:.0f}MB", flush=True)
    chain = rows[0][1]
    return [
        [shape, str(count), f"{wall:.2f}", f"{wall / chain:.2f}", f"{peak:.0f}"]
        for shape, wall, peak in rows
    ]


def bench_startup(parent: Path, repeats: int) -> list[list[str]]:
    project = generate.new_project(parent)
    generate.write_pipeline(project, 10)
    node = "block_0.node_0_0"
    folder = parent / "step-output"
    execute = [KEDRO, "azureml", "execute", "--node", node]
    execute += ["--az-output", "block_0.data_0_0", str(folder)]
    run = [KEDRO, "run", "--nodes", node]
    wrapper = [sys.executable, "-c", KEDRO_WRAPPER]
    cases = {
        "kedro run --nodes <node>": run,
        "kedro azureml execute --node <node>": execute,
        "kedro --help, plugin installed": [*wrapper, "with", "--help"],
        "kedro --help, plugin entry points removed": [*wrapper, "without", "--help"],
        "kedro run --nodes <node>, plugin installed": [*wrapper, "with", *run[1:]],
        "kedro run --nodes <node>, plugin entry points removed": [*wrapper, "without", *run[1:]],
    }
    for argv in cases.values():
        measure(argv, project)  # warm-up: bytecode and file caches
    results = {label: median_of(argv, project, repeats) for label, argv in cases.items()}
    rows = []
    for label, (wall, peak) in results.items():
        if "plugin" in label:  # with against without the plugin's entry points
            reference = results[label.split(",")[0] + ", plugin entry points removed"][0]
        else:
            reference = results["kedro run --nodes <node>"][0]
        rows.append([label, f"{wall:.2f}", f"{wall / reference:.2f}", f"{peak:.0f}"])
        print(f"  {label}: {wall:.2f}s", flush=True)
    return rows


def bench_example(parent: Path, repeats: int) -> list[list[str]]:
    project = parent / "spaceflights"
    shutil.copytree(
        EXAMPLE, project, ignore=shutil.ignore_patterns(".kedro-azureml", "__pycache__")
    )
    subprocess.run(
        [sys.executable, "scripts/generate_data.py"], cwd=project, check=True, capture_output=True
    )
    local = [KEDRO, "azureml", "run", "--local"]
    cases = {
        "kedro run": [KEDRO, "run"],
        "run --local (default settings)": local,
        "run --local --cold-start": [*local, "--cold-start"],
    }
    return bench_run_local(project, cases, repeats)


def bench_run_local(project: Path, cases: dict[str, list[str]], repeats: int) -> list[list[str]]:
    """Each case against the first (``kedro run``), measured in turns so load hits all alike."""
    for argv in cases.values():
        measure(argv, project)  # warm-up: bytecode, caches (the compile cache included)
    runs: dict[str, list[tuple[float, float]]] = {label: [] for label in cases}
    for _ in range(repeats):
        for label, argv in cases.items():
            runs[label].append(measure(argv, project))
    reference = statistics.median(wall for wall, _ in runs["kedro run"])
    rows = []
    for label, measured in runs.items():
        wall = statistics.median(w for w, _ in measured)
        peak = max(p for _, p in measured)
        rows.append([label, f"{wall:.2f}", f"{wall / reference:.2f}", f"{peak:.0f}"])
        print(f"  {label}: {wall:.2f}s ({wall / reference:.2f}x)", flush=True)
    return rows


def bench_starter(parent: Path, repeats: int) -> list[list[str]]:
    project = starter_project(parent)
    local = [KEDRO, "azureml", "run", "--local"]
    cases = {
        "kedro run": [KEDRO, "run"],
        "run --local (default settings)": local,
        "run --local --cold-start": [*local, "--cold-start"],
        "run --local, compile cache off, --cold-start": [
            *(sys.executable, "-c", CACHE_OFF, *local[1:], "--cold-start")
        ],
    }
    return bench_run_local(project, cases, repeats)


# Runs ``kedro`` with the compile cache off (the command as before the cache existed).
CACHE_OFF = """
import os, sys
os.environ["KEDRO_AZUREML_COMPILE_CACHE"] = "0"
sys.argv = ["kedro", *sys.argv[1:]]
from kedro.framework.cli import main
main()
"""

ORIGINAL_PLUGIN = "kedro-azureml==1.0.0"
ORIGINAL_VENV = HERE / ".original-plugin" / "venv"
# kedro-azureml 1.0.0 declares kedro>=1.0,<2.0 and pydantic<2.11, and imports cachetools
# without declaring it; kedro-datasets for the generated projects' CSV datasets.
ORIGINAL_REQUIREMENTS = [
    ORIGINAL_PLUGIN,
    f"kedro=={importlib.metadata.version('kedro')}",
    "cachetools",
    "kedro-datasets[pandas-csvdataset]",
]


def original_kedro() -> str:
    """``kedro`` of a venv holding the original plugin, made on first use (never ours)."""
    kedro = ORIGINAL_VENV / "bin" / "kedro"
    marker = ORIGINAL_VENV / ".installed"
    if not marker.is_file() or marker.read_text() != " ".join(ORIGINAL_REQUIREMENTS):
        subprocess.run([sys.executable, "-m", "venv", str(ORIGINAL_VENV)], check=True)
        pip = [str(ORIGINAL_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, *ORIGINAL_REQUIREMENTS], check=True)
        marker.write_text(" ".join(ORIGINAL_REQUIREMENTS))
    return str(kedro)


def bench_original(parent: Path, sizes: Sequence[int], repeats: int) -> list[list[str]]:
    """``compile`` of the same generated pipelines by this plugin and by kedro-azureml 1.0.0,
    measured in turns. Ours with its default grouping and with --group-by none, cache on
    (the repeated command) and off (a first compile); the original makes one step per node."""
    original = original_kedro()
    ours_project = generate.new_project(parent / "ours")
    theirs_project = generate.new_project(parent / "original")
    (theirs_project / "conf" / "base" / "azureml.yml").unlink()
    subprocess.run(
        [original, "azureml", "init", "00000000-0000-0000-0000-000000000000", "rg", "ws",
         "exp", "cpu", "--aml-env", "kedro-env:1", "--use-pipeline-data-passing"],
        cwd=theirs_project, env=generate.quiet_env(), check=True, capture_output=True,
    )  # fmt: skip
    ours = [KEDRO, "azureml", "compile", "--group-by", "none", "-o", "p.yaml"]
    cases = {
        "kedro-azureml 1.0.0 compile": ([original, "azureml", "compile", "-o", "p.yaml"], theirs_project),
        "ours, compile cache off": ([sys.executable, "-c", CACHE_OFF, *ours[1:]], ours_project),
        "ours": (ours, ours_project),
    }  # fmt: skip
    rows = []
    for size in sizes:
        generate.write_pipeline(ours_project, size)
        generate.write_pipeline(theirs_project, size)
        for argv, cwd in cases.values():
            measure(argv, cwd)  # warm-up
        runs: dict[str, list[float]] = {label: [] for label in cases}
        for _ in range(repeats):
            for label, (argv, cwd) in cases.items():
                runs[label].append(measure(argv, cwd)[0])
        theirs = statistics.median(runs["kedro-azureml 1.0.0 compile"])
        for label, walls in runs.items():
            wall = statistics.median(walls)
            rows.append([str(size), label, f"{wall:.2f}", f"{theirs / wall:.1f}x"])
            print(f"  {size} nodes, {label}: {wall:.2f}s ({theirs / wall:.1f}x)", flush=True)
    return rows


def load_average() -> str:
    try:
        return ", ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def bench_serialization(size_mb: int) -> str:
    return bench_script("serialization.py", "--size-mb", str(size_mb))


def bench_script(name: str, *args: str) -> str:
    """Run benchmarks/NAME, which prints its own markdown; its output, or why it failed."""
    script = HERE / name
    if not script.is_file():
        return f"benchmarks/{name} is not present."
    result = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=3600,
        env=generate.quiet_env(),
    )
    if result.returncode != 0:
        return f"{name} exited {result.returncode}:\n\n```\n{result.stderr[-2000:]}\n```"
    return result.stdout.strip()


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    return (
        f"{datetime.date.today().isoformat()}, {os.cpu_count()} CPUs (nproc), "
        f"{platform.platform()}, Python {platform.python_version()}, kedro {version('kedro')}, "
        f"azure-ai-ml {version('azure-ai-ml')}, kedro-azureml-next {version('kedro-azureml-next')}"
    )


SECTIONS = ("compile", "original", "shapes", "startup", "example", "starter", "serialization",
            "secrets")  # fmt: skip
RUN_LOCAL_HEADER = ["command", "wall s", "ratio to kedro run", "peak RSS MB"]


def section(name: str, parent: Path, quick: bool, repeats: int) -> list[str]:
    """The markdown blocks of one section of the report."""
    sizes = (10, 100) if quick else (10, 100, 500, 1000)
    print(f"{name} ...", flush=True)
    if name == "compile":
        rows = bench_compile(parent / "compile", sizes, repeats)
        baseline = "ratio to 100 nodes" if 100 in sizes else f"ratio to {sizes[0]}"
        header = ["nodes", "wall s", baseline, "peak RSS MB", *(f"steps: {s}" for s in STRATEGIES)]
        return [
            "## Compile (`kedro azureml compile --group-by none`: one step per node; whole "
            f"command, medians of {repeats}, compile cache on as a repeated compile finds it; "
            "pipelines of 10 nodes per layer, memory datasets between layers)",
            table(header, rows),
        ]
    if name == "original":
        rows = bench_original(parent / "original", (100,) if quick else (100, 1000), repeats)
        return [
            f"## Compile side by side with the original plugin ({ORIGINAL_PLUGIN}, its own venv "
            f"in benchmarks/.original-plugin/; whole command, medians of {repeats}, measured in "
            "turns; ours with --group-by none, one step per node like the original; 'cache off' "
            "is a first compile, KEDRO_AZUREML_COMPILE_CACHE=0)",
            table(["nodes", "command", "wall s", "speed-up vs 1.0.0"], rows),
        ]
    if name == "shapes":
        rows = bench_shapes(parent / "shapes", 500 if quick else 5000, repeats)
        return [
            "## Compile by pipeline shape (`compile --group-by none`; a chain, one node reading "
            "all others (fan-in), one dataset read by all others (fan-out))",
            table(["shape", "nodes", "wall s", "ratio to chain", "peak RSS MB"], rows),
        ]
    if name == "startup":
        return [
            "## Step start-up and CLI overhead (one trivial node)",
            "`kedro --help` without the plugin runs Kedro's own CLI with kedro-azureml's entry "
            "points filtered out of `importlib.metadata` (same venv, same other plugins); both "
            "rows marked with/without the plugin go through that wrapper. Ratios: execute against "
            "`kedro run --nodes`, the others against the same command without the plugin.",
            table(["command", "wall s", "ratio", "peak RSS MB"], bench_startup(parent / "startup", max(repeats, 5))),
        ]  # fmt: skip
    if name == "example":
        return [
            f"## The example project (spaceflights, 6 nodes; medians of {repeats}, in turns)",
            table(RUN_LOCAL_HEADER, bench_example(parent / "example", repeats)),
        ]
    if name == "starter":
        return [
            "## The starter's shape (spaceflights-pandas: 9 nodes, no namespaces, "
            f"{STARTER_ROWS:,} shuttles and reviews; medians of {repeats}, in turns)",
            table(RUN_LOCAL_HEADER, bench_starter(parent / "starter", repeats)),
        ]
    if name == "serialization":
        return [
            "## Serialization (`benchmarks/serialization.py`)",
            bench_serialization(20 if quick else 1024),  # the issue: ~1 GB frames
        ]
    quick_scan = ("--files", "500", "--mb", "20", "--repeats", "1") if quick else ()
    return [
        "## Secret scan before submitting (`benchmarks/secret_scan.py`)",
        bench_script("secret_scan.py", *quick_scan),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 10 and 100, 1 repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="default: RESULTS.md (not written with --quick or --only)",
    )
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    chosen = [name for name in SECTIONS if name in args.only.split(",")]
    started = time.perf_counter()
    load_before = load_average()
    blocks: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kedro-azureml-bench-") as tmp:
        for name in chosen:
            blocks += section(name, Path(tmp), args.quick, repeats)
    report = "\n\n".join(
        [
            "# kedro-azureml benchmarks",
            f"Measured by `benchmarks/run_all.py` on {machine()}. "
            f"Total bench time {time.perf_counter() - started:.0f} s; load average (1, 5, 15 "
            f"min) {load_before} at the start, {load_average()} at the end (other work on the "
            "machine skews absolute times: compare the ratios, measured in one run).",
            *blocks,
        ]
    )
    print(report)
    full = not args.quick and len(chosen) == len(SECTIONS)
    output = args.output or (HERE / "RESULTS.md" if full else None)
    if output is not None:
        output.write_text(report + "\n")
        print(f"\nWrote {output}")


if __name__ == "__main__":
    main()
