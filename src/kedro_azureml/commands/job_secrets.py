"""No secret goes into a job: its YAML, a step's environment, the job Azure ML stores.

Every route that builds a job (``compile``, ``compile -o -``, ``--graph``, ``run``,
``run --dry-run``, ``run --local``, ``schedule``) goes through ``compile_project``, which calls
:func:`check_job_holds_no_secret` before anything is written (the YAML, the compile cache, a
graph) or sent. Two checks, naming where a secret is, never the secret:

- the values of ``--env-var`` and ``--params`` (and a job's ``params``, merged into them):
  each is refused when it holds a secret this machine knows (the storage key, the value of
  ``$AZURE_CLIENT_SECRET``...) or has a secret's precise shape (a SAS signature, an account key,
  a JWT, a password in a URL...: see ``secret_scan.secret_shapes``);
- the compiled YAML itself, for a secret that reached it another way (azureml.yml's tags,
  description or inputs), named by its line and key.
"""

from __future__ import annotations

import os
from typing import Any

from kedro_azureml.compiler.render import CompileOptions
from kedro_azureml.errors import KedroAzureMLError
from kedro_azureml.project.secret_scan import KNOWN_SECRET_ENV_VARS, MIN_KNOWN_SECRET, secret_shapes

STORAGE_KEY_LABEL = "The storage account key"
SECRETS_DOC = "docs/how-to/uploads-and-secrets.md#secrets-a-step-needs"
FIX = (
    "Steps never need the storage key (temporary storage is mounted through a datastore). "
    "Give a step a secret through Azure Key Vault (read in the node with the compute's managed "
    "identity) or a workspace connection instead, never through the job: see " + SECRETS_DOC + "."
)


class SecretInJobError(KedroAzureMLError):
    """A secret would be written into the job: its YAML, a step's environment variables."""


def known_secrets(
    account_key: str | None = None, credentials: dict[str, str] | None = None
) -> dict[str, str]:
    """``{label: value}`` of every secret this machine knows: never uploaded, never in a job.

    ``account_key`` is the storage key ``run`` got (from the variable or the prompt);
    ``credentials`` the project's (``KedroProject.credential_secrets``); the variables are read
    here. The label says where the value came from, never the value itself; a value known under
    two names keeps the first.
    """
    candidates = [(STORAGE_KEY_LABEL, account_key or "")]
    candidates += list((credentials or {}).items())
    candidates += [
        (f"The value of ${name}", os.environ.get(name, "")) for name in KNOWN_SECRET_ENV_VARS
    ]
    for part in os.environ.get("AZURE_STORAGE_CONNECTION_STRING", "").split(";"):
        name, _, value = part.partition("=")
        if name.strip().lower() in ("accountkey", "sharedaccesssignature"):
            candidates.append((f"The {name.strip()} in $AZURE_STORAGE_CONNECTION_STRING", value))
    known: dict[str, str] = {}
    for label, value in candidates:
        value = value.strip()
        if len(value) >= MIN_KNOWN_SECRET and value not in known.values():
            known[label] = value
    return known


def _option_values(options: CompileOptions) -> list[tuple[str, str, Any]]:
    """``(option, name, value)`` of every --env-var and every leaf of --params (merged with
    the named job's ``params``, which the label then names too)."""
    values: list[tuple[str, str, Any]] = [
        (f"--env-var {name}", name, value) for name, value in options.env_vars.items()
    ]
    job = options.job.name
    also = f" (or jobs.{job}.params in azureml.yml)" if job else ""
    stack: list[tuple[str, Any]] = [("", options.params)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack += [(f"{path}.{key}" if path else str(key), v) for key, v in value.items()]
        elif isinstance(value, (list, tuple)):
            stack += [(f"{path}[{i}]", v) for i, v in enumerate(value)]
        else:
            values.append((f"--params {path}{also}", path.rpartition(".")[2], value))
    return values


def _secrets_in(text: str, known: dict[str, str], name: str | None = None) -> list[str]:
    """What ``text`` holds, as labels: the known secrets, else the secret shapes (those of
    ``name=text`` when the value has a name of its own)."""
    found = [label[0].lower() + label[1:] for label, secret in known.items() if secret in text]
    if found:
        return found
    shapes = secret_shapes(f"{name}={text}", named=True) if name else secret_shapes(text)
    return [f"something shaped like {_article(kind)} {kind}" for kind in shapes]


def _article(kind: str) -> str:
    return "an" if kind[:1].lower() in "aeiou" else "a"


def secret_options(options: CompileOptions, known: dict[str, str]) -> list[tuple[str, str]]:
    """``(option, label)`` for every --env-var/--params value that holds a secret."""
    found = []
    for option, name, value in _option_values(options):
        found += [(option, label) for label in _secrets_in(str(value), known, name)]
    return sorted(found)


def secret_lines(yaml_text: str, known: dict[str, str]) -> list[tuple[str, str]]:
    """``(where, label)`` for every line of the compiled YAML that holds a secret."""
    if not any(secret in yaml_text for secret in known.values()) and not secret_shapes(yaml_text):
        return []
    found = []
    for number, line in enumerate(yaml_text.splitlines(), start=1):
        key = line.strip().lstrip("- ").partition(":")[0].strip() or "?"
        found += [(f"line {number} ({key})", label) for label in _secrets_in(line, known)]
    # A value YAML folded over two lines is found in the whole text only.
    return found or [("the compiled YAML", label) for label in _secrets_in(yaml_text, known)]


def _listed(found: list[tuple[str, str]]) -> str:
    """``(where, label)`` pairs as the refusal's list: where each is, never its value."""
    return "\n".join(f"  - {option}: {label}" for option, label in found)


def _refusal(verb: str, found: list[tuple[str, str]], where: str) -> SecretInJobError:
    return SecretInJobError(
        f"Not {verb}: these values would be written into the job definition sent to Azure ML "
        f"({where}), where anyone who can read the job sees them:\n{_listed(found)}\n{FIX}"
    )


def check_options_hold_no_secret(
    options: CompileOptions, known: dict[str, str], verb: str = "submitted"
) -> None:
    """A value given with --env-var or --params is written into the job Azure ML stores and
    shows: refuse one that holds a secret (the message never shows it)."""
    found = secret_options(options, known)
    if found:
        raise _refusal(verb, found, "and into the compiled YAML")


def check_given_yaml_holds_no_secret(yaml_text: str, path: str, known: dict[str, str]) -> None:
    """A job YAML given with ``--from-yaml`` was compiled elsewhere, or edited by hand: its
    steps would get what it holds in their command and environment, and its copy is kept in
    the run folder, so it gets the check every compiled job gets."""
    found = secret_lines(yaml_text, known)
    if found:
        raise SecretInJobError(
            f"Not run: {path} holds values that every step would get in its command or "
            f"environment, and that the run folder would keep:\n{_listed(found)}\n{FIX}"
        )


def check_yaml_holds_no_secret(yaml_text: str, known: dict[str, str]) -> None:
    """The compiled YAML holds no secret that reached it another way than the options."""
    found = secret_lines(yaml_text, known)
    if found:
        raise _refusal(
            "compiled",
            found,
            "they come from azureml.yml or from --tag, --description, --display-name or --input",
        )
