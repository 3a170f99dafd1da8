"""MkDocs hooks: the parts of the site that are generated from the code at build time.

* ``<!-- generated: azureml-yml -->``: every key of azureml.yml, with its type, default and
  description, read from the pydantic models of ``kedro_azureml.config`` (and config_jobs).
* ``<!-- generated: error-classes -->``: the list of the plugin's error classes, found in the
  source; the build fails when troubleshooting.md has no section for one of them.
* ``<!-- generated: step-env-allowlist -->``: the variables ``run --local`` passes to a step.
* ``<!-- generated: step-graph -->``: the example project's step graph, drawn by
  ``kedro azureml compile --graph``: its Mermaid text as a ``mermaid`` block, which the site
  draws, and the offline SVG page, served beside.
* Mermaid itself: ``mermaid.min.js`` from npm (package.json, ``make node``) is copied into the
  site and loaded by the pages that have a ``mermaid`` block, before the theme's script looks
  for it; the theme uses a global ``mermaid`` when there is one and fetches it from a CDN
  otherwise.
* the example run report (docs/examples/run/), made by ``docs/scripts/example_run.py``, is
  checked to be there.
* mkdocs-click's rendering of click's "no default" marker becomes "-".

Nothing here reaches the network: ``make docs`` builds offline.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import subprocess
import sys
import tempfile
import types
import typing
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.plugins.kedro_azureml")
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "spaceflights"
SOURCE = ROOT / "src" / "kedro_azureml"
GRAPH_PIPELINE = "distributed"  # the example's pipeline with both compute and distribution
MERMAID_JS = ROOT / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
MERMAID_URI = "assets/vendor/mermaid.min.js"
_graph: dict[str, str] = {}


# azureml.yml reference ------------------------------------------------------------------------


def _type_name(annotation: Any) -> str:
    """A field's type as a reader of YAML thinks of it."""
    from pydantic import BaseModel

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{json.dumps(arg)}`" for arg in args)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(arg) for arg in args if arg is not type(None)]
        nullable = type(None) in args
        return " or ".join(names) + (" or `~`" if nullable else "")
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"mapping of {_type_name(args[1])}" if len(args) == 2 else "mapping"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(
        annotation, f"`{getattr(annotation, '__name__', annotation)}`"
    )


def _default(field: Any) -> str:
    from pydantic import BaseModel
    from pydantic_core import PydanticUndefined

    if field.is_required():
        return "**required**"
    value = field.default_factory() if field.default_factory else field.default
    if value is PydanticUndefined:
        return "**required**"
    if isinstance(value, BaseModel):
        return "its defaults"
    if value is None:
        return "`~`"
    return f"`{json.dumps(value)}`"


def _nested_models(annotation: Any) -> list[type]:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _nested_models(arg)]


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def config_reference() -> str:
    """A section per model of azureml.yml, top-down, each key a row."""
    from kedro_azureml.config import AzureMLConfig

    sections, seen, queue = [], set(), [(AzureMLConfig, "azureml.yml")]
    while queue:
        model, where = queue.pop(0)
        if model in seen:
            continue
        seen.add(model)
        rows = ["| key | type | default | description |", "|---|---|---|---|"]
        for name, field in model.model_fields.items():
            key = field.alias or name
            rows.append(
                f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} | "
                f"{_one_line(field.description)} |"
            )
            queue += [(nested, f"`{key}`") for nested in _nested_models(field.annotation)]
        doc = _one_line(model.__doc__) if model.__doc__ else ""
        sections.append(
            f"### {model.__name__}\n\nUsed in: {where}. {doc}\n\n" + "\n".join(rows) + "\n"
        )
    return "\n".join(sections)


# Error classes ------------------------------------------------------------------------------------


def error_classes() -> dict[str, str]:
    """Every class of the package deriving from KedroAzureMLError: name -> module, by AST."""
    bases: dict[str, tuple[str, list[str]]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        module = ".".join(path.relative_to(SOURCE.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                names = [b.id if isinstance(b, ast.Name) else ast.unparse(b) for b in node.bases]
                bases[node.name] = (module.removesuffix(".__init__"), names)
    found = {"KedroAzureMLError": bases["KedroAzureMLError"][0]}
    changed = True
    while changed:
        changed = False
        for name, (module, parents) in bases.items():
            if name not in found and any(parent in found for parent in parents):
                found[name] = module
                changed = True
    return found


def _error_list() -> str:
    rows = ["| class | defined in |", "|---|---|"]
    for name, module in sorted(error_classes().items()):
        rows.append(f"| [`{name}`](#{name.lower()}) | `{module}` |")
    return "\n".join(rows) + "\n"


def _check_errors_documented(markdown: str) -> None:
    missing = [name for name in error_classes() if f"### `{name}`" not in markdown]
    if missing:
        log.warning(
            "troubleshooting.md has no section (### `Name`) for: %s", ", ".join(sorted(missing))
        )


# The variables a local step keeps ------------------------------------------------------------------


def _step_env_allowlist() -> str:
    from kedro_azureml.local.runner import STEP_ENV_ALLOWLIST

    names = [*sorted(STEP_ENV_ALLOWLIST, key=lambda name: (name.lower(), name)), "LC_*"]
    return ", ".join(f"`{name}`" for name in names) + "\n"


# The step graph of the example ---------------------------------------------------------------------


def _draw_example_graph() -> dict[str, str]:
    """``kedro azureml compile --graph`` on the example project, as a user would run it."""
    with tempfile.TemporaryDirectory(prefix="kedro-azureml-docs-") as folder:
        out = Path(folder)
        env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        command = [
            str(Path(sys.executable).parent / "kedro"),
            *("azureml", "compile", "-p", GRAPH_PIPELINE, "-o", str(out / "job.yaml")),
            *("--graph", str(out / "graph.html"), "--graph", str(out / "graph.mmd")),
        ]
        done = subprocess.run(
            command, cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
        return {
            "html": (out / "graph.html").read_text(),
            "mermaid": (out / "graph.mmd").read_text(),
            "command": f"kedro azureml compile -p {GRAPH_PIPELINE} "
            "--graph graph.html --graph graph.mmd",
        }


def _graph_section() -> str:
    mermaid = _graph["mermaid"]
    indented = "".join(f"    {line}" if line.strip() else line for line in mermaid.splitlines(True))
    return (
        f"```console\n$ cd examples/spaceflights\n$ {_graph['command']}\n```\n\n"
        '<iframe class="example-picture" src="../examples/graph.html" '
        'title="Step graph of the example" loading="lazy"></iframe>\n\n'
        "[Open graph.html on its own](../examples/graph.html). The same graph from its Mermaid "
        "text (`graph.mmd`), drawn by Mermaid as GitHub draws it in a `.md` file:\n\n"
        f"```mermaid\n{mermaid}```\n\n"
        f'??? note "The Mermaid text"\n\n    ```text\n{indented}    ```\n'
    )


# Mermaid, from npm -------------------------------------------------------------------------------


def _mermaid_file(config: Any) -> File:
    if not MERMAID_JS.is_file():
        raise PluginError(
            f"{MERMAID_JS.relative_to(ROOT)} is missing: run `make node` (npm ci) at the "
            "repository root; the site draws its Mermaid blocks with it, offline."
        )
    return File.generated(config, MERMAID_URI, abs_src_path=str(MERMAID_JS))


def _with_mermaid(html: str, page: Any, files: Files) -> str:
    """Load mermaid.min.js on a page with a ``mermaid`` block (superfences: ``pre.mermaid``).

    A plain script in the content runs before the theme's, which starts on DOMContentLoaded,
    finds the global ``mermaid`` and so fetches nothing.
    """
    if '<pre class="mermaid">' not in html:
        return html
    script = files.get_file_from_path(MERMAID_URI)
    assert script is not None  # added by on_files
    return html + f'\n<script src="{script.url_relative_to(page.file)}"></script>\n'


# Hooks -------------------------------------------------------------------------------------------


def on_files(files: Files, config: Any) -> Files:
    files.append(_mermaid_file(config))  # first: when it is missing, say so before the graph
    _graph.update(_draw_example_graph())
    files.append(File.generated(config, "examples/graph.html", content=_graph["html"]))
    if not any(f.src_uri == "examples/run/report.html" for f in files):
        log.warning(
            "docs/examples/run/report.html is missing: run `python docs/scripts/example_run.py`"
        )
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    if "<!-- generated: azureml-yml -->" in markdown:
        markdown = markdown.replace("<!-- generated: azureml-yml -->", config_reference())
    if "<!-- generated: error-classes -->" in markdown:
        _check_errors_documented(markdown)
        markdown = markdown.replace("<!-- generated: error-classes -->", _error_list())
    if "<!-- generated: step-env-allowlist -->" in markdown:
        markdown = markdown.replace("<!-- generated: step-env-allowlist -->", _step_env_allowlist())
    if "<!-- generated: step-graph -->" in markdown:
        markdown = markdown.replace("<!-- generated: step-graph -->", _graph_section())
    return markdown


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    # mkdocs-click shows click 8.2+'s "no default" marker as is.
    return _with_mermaid(html.replace("<code>Sentinel.UNSET</code>", "-"), page, files)
