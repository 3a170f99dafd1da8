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
    cases = {
        "kedro run": [KEDRO, "run"],
        "run --local (grouping none)": [KEDRO, "azureml", "run", "--local", "--group-by", "none"],
        "run --local --group-by namespace": [
            *(KEDRO, "azureml", "run", "--local", "--group-by", "namespace")
        ],
        "run --local --group-by namespace --no-mlflow": [
            *(KEDRO, "azureml", "run", "--local", "--group-by", "namespace", "--no-mlflow")
        ],
    }
    measure(cases["kedro run"], project)  # warm-up
    results = {label: median_of(argv, project, repeats) for label, argv in cases.items()}
    rows = []
    for label, (wall, peak) in results.items():
        ratio = wall / results["kedro run"][0]
        rows.append([label, f"{wall:.2f}", f"{ratio:.2f}", f"{peak:.0f}"])
        print(f"  {label}: {wall:.2f}s", flush=True)
    return rows


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 10 and 100, 1 repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--output", type=Path, default=None, help="default: RESULTS.md (not written with --quick)"
    )
    args = parser.parse_args()
    sizes = (10, 100) if args.quick else (10, 100, 500, 1000)
    repeats = 1 if args.quick else args.repeats
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kedro-azureml-bench-") as tmp:
        parent = Path(tmp)
        print("compile ...", flush=True)
        compile_rows = bench_compile(parent / "compile", sizes, repeats)
        print("compile by shape ...", flush=True)
        shape_nodes = 500 if args.quick else 5000
        shape_rows = bench_shapes(parent / "shapes", shape_nodes, repeats)
        print("start-up ...", flush=True)
        startup_rows = bench_startup(parent / "startup", max(repeats, 5))
        print("example project ...", flush=True)
        example_rows = bench_example(parent / "example", repeats)
    print("serialization ...", flush=True)
    serialization = bench_serialization(20 if args.quick else 1024)  # the issue: ~1 GB frames
    print("secret scan ...", flush=True)
    quick_scan = ("--files", "500", "--mb", "20", "--repeats", "1") if args.quick else ()
    secret_scan = bench_script("secret_scan.py", *quick_scan)
    report = "\n\n".join(
        [
            "# kedro-azureml benchmarks",
            f"Measured by `benchmarks/run_all.py` on {machine()}. "
            f"Total bench time {time.perf_counter() - started:.0f} s.",
            "## Compile (`kedro azureml compile --group-by none`: one step per node; whole command, medians of "
            f"{repeats}; pipelines of 10 nodes per layer, memory datasets between layers)",
            table(
                [
                    "nodes",
                    "wall s",
                    "ratio to 100 nodes" if 100 in sizes else f"ratio to {sizes[0]}",
                    "peak RSS MB",
                    *(f"steps: {s}" for s in STRATEGIES),
                ],
                compile_rows,
            ),
            "## Compile by pipeline shape (`compile --group-by none`; a chain, one node reading "
            "all others (fan-in), one dataset read by all others (fan-out))",
            table(["shape", "nodes", "wall s", "ratio to chain", "peak RSS MB"], shape_rows),
            "## Step start-up and CLI overhead (one trivial node)",
            "`kedro --help` without the plugin runs Kedro's own CLI with kedro-azureml's entry "
            "points filtered out of `importlib.metadata` (same venv, same other plugins); both "
            "rows marked with/without the plugin go through that wrapper. Ratios: execute against "
            "`kedro run --nodes`, the others against the same command without the plugin.",
            table(["command", "wall s", "ratio", "peak RSS MB"], startup_rows),
            f"## The example project (spaceflights, 6 nodes; medians of {repeats})",
            table(["command", "wall s", "ratio to kedro run", "peak RSS MB"], example_rows),
            "## Serialization (`benchmarks/serialization.py`)",
            serialization,
            "## Secret scan before submitting (`benchmarks/secret_scan.py`)",
            secret_scan,
        ]
    )
    print(report)
    output = args.output or (None if args.quick else HERE / "RESULTS.md")
    if output is not None:
        output.write_text(report + "\n")
        print(f"\nWrote {output}")


if __name__ == "__main__":
    main()
