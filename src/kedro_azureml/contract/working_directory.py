"""The docker image flow's ``cd <dir> && <command>``: written by the compiler, read by run --local.

In the docker image flow the project lives in the image at ``azure.working_directory``, so each
step's command first changes into it. ``run --local`` runs the same command in the project
itself, so it needs that directory as data rather than as part of the command text. Both
sides use this module, and the directory is a quoted shell word: it may hold spaces or quotes.
"""

from __future__ import annotations

import shlex


def in_working_directory(directory: str, command: str) -> str:
    """``command`` run in ``directory``: ``cd <directory, quoted> && <command>``."""
    return f"cd {shlex.quote(directory)} && {command}"


def split_working_directory(command: str) -> tuple[str | None, str]:
    """``cd <dir> && <rest>`` -> ``(dir, rest)``; any other command -> ``(None, command)``.

    The ``&&`` that ends the prefix is the first one outside quotes: the first whose text
    before it reads, as shell words, exactly ``cd <one word>``.
    """
    if command.lstrip().split(maxsplit=1)[:1] != ["cd"]:
        return None, command
    start = 0
    while (operator := command.find("&&", start)) != -1:
        try:
            words = shlex.split(command[:operator])
        except ValueError:  # inside quotes, or after a backslash: not the operator
            words = []
        if len(words) == 2:
            return words[1], command[operator + 2 :].lstrip()
        if len(words) > 2:
            break  # `cd a b && ...` is not a change of directory we wrote
        start = operator + 1
    return None, command
