"""No secret in a compiled job: ``compile_project`` refuses it before anything is written."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

import kedro_azureml.commands.compile_cache as compile_cache
from kedro_azureml.commands.job_secrets import SecretInJobError, secret_lines
from kedro_azureml.compiler.job_settings import JobSettings
from kedro_azureml.compiler.render import CompileOptions
from tests.unit.test_compile_cache import _compile, _project

CLIENT_SECRET = "cl1ent~Secret.Value_0123456789"
ACCOUNT_KEY = base64.b64encode(b"job-secrets-test-key-" + bytes(range(43))).decode()
SAS_URL = (
    "https://acct.blob.core.windows.net/c?sv=2022-11-02&sr=c&sig=AbCdEf0123456789AbCdEf0123%3D"
)


@pytest.fixture(autouse=True)
def _cache_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(compile_cache.SWITCH_VARIABLE, raising=False)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", ACCOUNT_KEY)


def _written(root: Path) -> str:
    return "".join(p.read_text() for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("options", "line"),
    [
        (
            CompileOptions(env_vars={"SP": CLIENT_SECRET}),
            "  - --env-var SP: the value of $AZURE_CLIENT_SECRET\n",
        ),
        (
            CompileOptions(env_vars={"KEY": f"key:{ACCOUNT_KEY}"}),
            "  - --env-var KEY: the value of $AZURE_STORAGE_ACCOUNT_KEY\n",
        ),
        (
            CompileOptions(params={"io": {"url": SAS_URL}}),
            "  - --params io.url: something shaped like an Azure SAS signature (sig=)\n",
        ),
        (
            CompileOptions(env_vars={"DB": "postgresql://scott:t1ger-Pass@db/x"}),
            "  - --env-var DB: something shaped like a password in a URL\n",
        ),
    ],
    ids=["known-value", "known-inside", "sas-shape", "url-password"],
)
def test_a_secret_in_the_options_is_refused_and_nothing_is_written(
    tmp_path: Path, options: CompileOptions, line: str
) -> None:
    with pytest.raises(SecretInJobError) as raised:
        _compile(_project(tmp_path), options)

    message = str(raised.value)
    assert message.startswith(
        "Not compiled: these values would be written into the job definition sent to Azure ML"
    )
    assert line in message
    assert "Azure Key Vault" in message and "uploads-and-secrets.md" in message
    for secret in (CLIENT_SECRET, ACCOUNT_KEY, SAS_URL, "t1ger-Pass"):
        assert secret not in message
    assert not (tmp_path / compile_cache.CACHE_DIR).exists()


def test_a_secret_reaching_the_yaml_another_way_is_named_by_its_line(tmp_path: Path) -> None:
    options = CompileOptions(job=JobSettings(description=f"backup key {ACCOUNT_KEY}"))

    with pytest.raises(SecretInJobError) as raised:
        _compile(_project(tmp_path), options)

    message = str(raised.value)
    assert (
        "(they come from azureml.yml or from --tag, --description, --display-name or --input)"
        in message
    )
    assert "(description): the value of $AZURE_STORAGE_ACCOUNT_KEY\n" in message
    assert ACCOUNT_KEY not in message
    assert ACCOUNT_KEY not in _written(tmp_path)


def test_a_cached_yaml_holding_a_secret_is_never_returned(tmp_path: Path) -> None:
    """An entry an older version cached (or one tampered with) is checked like a fresh one."""
    options = CompileOptions(env_vars={"TOKEN": "plain"})
    clean = _compile(_project(tmp_path), options)
    (entry,) = (tmp_path / compile_cache.CACHE_DIR).glob("*.yaml")
    entry.write_text(clean.yaml_text + f"# key: {ACCOUNT_KEY}\n")

    with pytest.raises(
        SecretInJobError, match=r"\(# key\): the value of \$AZURE_STORAGE_ACCOUNT_KEY"
    ):
        _compile(_project(tmp_path), options)


def test_a_clean_job_compiles_and_azurite_s_published_key_is_no_secret(tmp_path: Path) -> None:
    azurite = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey="
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    )
    compiled = _compile(_project(tmp_path), CompileOptions(env_vars={"AZURITE": azurite}))

    assert azurite in compiled.yaml_text
    assert secret_lines(compiled.yaml_text, {"The value of $X": CLIENT_SECRET}) == []


def test_a_secret_no_single_line_holds_is_still_refused() -> None:
    """A value spread over lines (a folded scalar) is found in the whole text."""
    text = "description: >-\n  half of cl1ent~Secret.Value\n  _0123456789 end\n"
    known = {"The value of $AZURE_CLIENT_SECRET": "cl1ent~Secret.Value\n  _0123456789"}
    assert secret_lines(text, known) == [("the compiled YAML", "the value of $AZURE_CLIENT_SECRET")]


@pytest.mark.parametrize(
    ("options", "refused"),
    [
        (CompileOptions(env_vars={"DB_PASSWORD": "Zq8&kLm2Vx9!pR4t"}), "--env-var DB_PASSWORD"),
        (CompileOptions(params={"api": {"api_key": "a8F3kQ9zL2mX7pR4"}}), "--params api.api_key"),
        (CompileOptions(env_vars={"SECRET_NAME": "db-password"}), None),
        (CompileOptions(env_vars={"HF_TOKEN_PATH": "/mnt/tokens/hf.json"}), None),
        (CompileOptions(params={"model": {"tokenizer": "bert-base-uncased-v2"}}), None),
        (CompileOptions(params={"max_tokens": 4096, "password_env": "DB_PASSWORD"}), None),
    ],
    ids=["password", "api-key", "secret-name", "token-path", "tokenizer", "names"],
)
def test_a_random_value_under_a_secret_s_name_is_refused(
    options: CompileOptions, refused: str | None
) -> None:
    from kedro_azureml.commands.job_secrets import secret_options

    found = secret_options(options, {})
    if refused is None:
        assert found == []
    else:
        ((option, label),) = found
        assert option == refused
        assert label.startswith("something shaped like a high-entropy value assigned to ")
