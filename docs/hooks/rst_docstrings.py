"""A griffe extension: the reST bits of kedro-datasets style docstrings, as Markdown.

Our public datasets document themselves the way kedro-datasets does (``.. code-block:: yaml``,
``:meth:`x```, ```text <url>`_`` links, double backquotes); mkdocstrings renders Markdown.
The source keeps its style, the site shows it properly.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension

_ROLE = re.compile(r":(?:meth|class|func|attr|mod|obj):`~?([^`]+)`")
_LINK = re.compile(r"`([^`<]+?)\s*<([^>]+)>`_")
_LITERAL = re.compile(r"``([^`]+)``")
_DIRECTIVE = re.compile(r"^(\s*)\.\. code-block::\s*(\w+)\s*$")


def _fence_code_blocks(lines: list[str]) -> list[str]:
    out: list[str] = []
    index = 0
    while index < len(lines):
        match = _DIRECTIVE.match(lines[index])
        if not match:
            out.append(lines[index])
            index += 1
            continue
        indent, language = len(match.group(1)), match.group(2)
        index += 1
        block: list[str] = []
        while index < len(lines) and (
            not lines[index].strip() or len(lines[index]) - len(lines[index].lstrip()) > indent
        ):
            block.append(lines[index])
            index += 1
        while block and not block[-1].strip():
            block.pop()
        body = [line for line in block if line.strip()]
        cut = min((len(line) - len(line.lstrip()) for line in body), default=0)
        fence = " " * indent
        out += [f"{fence}```{language}"]
        out += [fence + line[cut:] if line.strip() else "" for line in block if block]
        out += [f"{fence}```", ""]
    return out


def markdown_of(text: str) -> str:
    lines = _fence_code_blocks(text.splitlines())
    converted, inside = [], False
    for line in lines:
        if line.lstrip().startswith("```"):
            inside = not inside
        elif not inside:
            line = _LINK.sub(r"[\1](\2)", _ROLE.sub(r"`\1`", line))
            line = _LITERAL.sub(r"`\1`", line)
        converted.append(line)
    return "\n".join(converted)


class RstDocstrings(Extension):
    def on_object(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown_of(obj.docstring.value)
