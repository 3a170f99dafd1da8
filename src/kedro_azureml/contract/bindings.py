"""Azure ML's ``${{...}}`` binding expressions: written by the compiler, read by run --local.

One grammar for both sides, so the local runner reads exactly what the compiler writes (and
the spaced forms Azure ML also accepts in hand-written YAML).
"""

from __future__ import annotations

import re

# ${{inputs.x}} / ${{outputs.y}} inside a step's command
STEP_IO = re.compile(r"\$\{\{\s*(inputs|outputs)\.([A-Za-z0-9_]+)\s*\}\}")
# a step input bound to another step's output
STEP_OUTPUT = re.compile(
    r"^\$\{\{\s*parent\.jobs\.([A-Za-z0-9_]+)\.outputs\.([A-Za-z0-9_]+)\s*\}\}$"
)
# a step input bound to a pipeline job input (a parameter exposed as an input)
JOB_INPUT = re.compile(r"^\$\{\{\s*parent\.inputs\.([A-Za-z0-9_]+)\s*\}\}$")
# a step output bound to a pipeline job output
JOB_OUTPUT = re.compile(r"^\$\{\{\s*parent\.outputs\.([A-Za-z0-9_]+)\s*\}\}$")


def step_io(kind: str, port: str) -> str:
    return f"${{{{{kind}.{port}}}}}"


def step_output(step: str, port: str) -> str:
    return f"${{{{parent.jobs.{step}.outputs.{port}}}}}"


def job_output(port: str) -> str:
    return f"${{{{parent.outputs.{port}}}}}"
