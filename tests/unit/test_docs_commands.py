"""Every `kedro azureml` command line, option and import path the docs show is real.

The docs are prose written by hand; this keeps them honest against the click commands and
the package: a renamed option or module fails here, not in a user's terminal.
"""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import click
import pytest

from kedro_azureml.cli import azureml

ROOT = Path(__file__).resolve().parents[2]
PAGES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
COMMAND = re.compile(r"kedro azureml ([a-z][^`|\n]*)")
IMPORT = re.compile(
    r"(?:from (kedro_azureml[\w.]*) import ([\w, ]+))|(?:type: (kedro_azureml(?:\.\w+)+))"
)


def _command_lines() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        text = page.read_text().replace("\\\n", " ")
        for match in COMMAND.finditer(text):
            line = match.group(1).split("  #")[0].strip()
            found.append((f"{page.relative_to(ROOT)}: kedro azureml {line}", line))
    return found


def _options(command: click.Command) -> set[str]:
    names = {"-h", "--help"}
    for param in command.params:
        if isinstance(param, click.Option):
            names |= {*param.opts, *param.secondary_opts}
    return names


def _resolve(tokens: list[str]) -> tuple[click.Command, list[str]]:
    command: click.Command = azureml
    while isinstance(command, click.Group) and tokens and not tokens[0].startswith("-"):
        sub = command.get_command(click.Context(command), tokens[0])
        if sub is None:
            break
        command, tokens = sub, tokens[1:]
    return command, tokens


@pytest.mark.parametrize(("where", "line"), _command_lines(), ids=lambda value: value[:90])
def test_command_lines_name_real_commands_and_options(where: str, line: str) -> None:
    tokens = [t for t in shlex.split(line.replace("...", "")) if t]
    first = tokens[0]
    command, rest = _resolve(tokens)
    assert command is not azureml or first.startswith("-"), f"{where}: no command {first!r}"
    allowed = _options(command) | _options(azureml)
    for token in rest:
        if token.startswith("-") and token != "-":
            option = token.split("=")[0]
            assert option in allowed, f"{where}: {command.name} has no option {option}"


def test_import_paths_in_the_docs_exist() -> None:
    checked = 0
    for page in PAGES:
        for module, names, dataset in IMPORT.findall(page.read_text()):
            if dataset:
                module, names = dataset.rsplit(".", 1)
            imported = importlib.import_module(module)
            for name in (n.strip() for n in names.split(",")):
                assert hasattr(imported, name), f"{page.name}: {module}.{name}"
                checked += 1
    assert checked >= 5
