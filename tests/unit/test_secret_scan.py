"""Secrets in the code snapshot, by name and by content (``project/secret_scan.py``)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from kedro_azureml.project import secret_scan
from kedro_azureml.project.secret_scan import Allowlist, scan_contents, suspicious_files
from kedro_azureml.project.snapshot import scan_code_directory

ACCOUNT_KEY = base64.b64encode(bytes(range(7, 71))).decode()  # 64 bytes, as real keys
CONNECTION = (
    f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={ACCOUNT_KEY};"
    "EndpointSuffix=core.windows.net"
)
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
GITHUB = "ghp_" + "aB3" * 12

# (file, text, the finding "path:line: kind" or None when nothing may be found)
SHAPES = [
    ("src/demo/settings.py", f'CONN = "{CONNECTION}"\n', "1: Azure storage account key"),
    ("conf/base/globals.yml", f"storage:\n  key: {ACCOUNT_KEY}\n", "2: Azure storage account key"),
    (
        "src/demo/sas.py",
        'URL = "https://a.blob.core.windows.net/c?sv=2022-11-02&sr=c&sig=AbCdEf0123456789AbCdEf0123456789%2Bxyz%3D"\n',
        "1: Azure SAS signature (sig=)",
    ),
    (
        "conf/base/aws.ini",
        "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
        "2: AWS access key ID",
    ),
    (
        "conf/base/aws_keys.ini",
        "[x]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        "2: AWS secret access key",
    ),
    ("deploy/id", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n", "1: private key"),
    ("src/demo/api.py", f'HEADERS = {{"Authorization": "Bearer {JWT}"}}\n', "1: JSON web token"),
    (
        "src/demo/api2.py",
        'HEADERS = {"Authorization": "Bearer abcdefghijklmnopqrstuvwxyz0123456789"}\n',
        "1: bearer token",
    ),
    ("src/demo/gh.py", f'TOKEN_FOR_CI = "{GITHUB}"\n', "1: GitHub token"),
    ("src/demo/slack.py", 'HOOK = "xoxb-123456789012-abcdefghijkl"\n', "1: Slack token"),
    (
        "conf/base/catalog.yml",
        "db:\n  type: pandas.SQLTableDataset\n  con: postgresql://scott:t1ger-Pass@db/x\n",
        "3: password in a URL",
    ),
    (
        "conf/base/parameters.yml",
        "api:\n  client_secret: 'Zq8&kLm2Vx9!pR4t'\n",
        "2: high-entropy value assigned to client_secret",
    ),
    ("src/demo/nodes.py", "max_tokens = 1024\ntoken_path = 'data/tokens.json'\n", None),
    ("src/demo/refs.py", "session_token = creds.session_token\napi_key = os.environ['K']\n", None),
    ("conf/base/oc.yml", "password: ${oc.env:DB_PASSWORD}\ntoken: ${globals:token}\n", None),
    ("docs/db.md", "Use `postgresql://user:password@host:5432/db`.\n", None),
    ("package-lock.json", '{"integrity": "sha512-' + ACCOUNT_KEY + '"}\n', None),
    (
        "conf/base/azurite.yml",
        "key: Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==\n",
        None,
    ),
    ("src/demo/page.py", 'next_page_token = "eyJpbmRleCI6IDExfQ=="\n', None),
]


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def _findings(root: Path, **known: str) -> list[str]:
    return [str(f) for f in scan_contents(scan_code_directory(root), known).findings]


@pytest.mark.parametrize(("rel", "text", "expected"), SHAPES, ids=[f"{s[0]}" for s in SHAPES])
def test_secret_shapes(tmp_path: Path, rel: str, text: str, expected: str | None) -> None:
    _write(tmp_path, {rel: text})
    findings = _findings(tmp_path)
    if expected is None:
        assert findings == []
    else:
        assert findings == [f"{rel}:{expected}"] or (
            # a connection string is reported once, by its AccountKey=
            findings == [f"{rel}:{expected} (AccountKey=)"]
        )
    assert not any(secret in " ".join(findings) for secret in (ACCOUNT_KEY, JWT, GITHUB))


def test_tokens_inside_a_notebook_are_found(tmp_path: Path) -> None:
    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": ["# Explore\n"]},
            {
                "cell_type": "code",
                "source": ["import os\n", f'os.environ["GITHUB_TOKEN"] = "{GITHUB}"\n'],
                "outputs": [{"data": {"image/png": base64.b64encode(bytes(5000)).decode()}}],
            },
        ]
    }
    _write(tmp_path, {"notebooks/explore.ipynb": json.dumps(notebook, indent=1)})
    (finding,) = scan_contents(scan_code_directory(tmp_path)).findings
    assert (finding.path, finding.kind) == ("notebooks/explore.ipynb", "GitHub token")
    text_lines = json.dumps(notebook, indent=1).splitlines()
    assert finding.line == next(i for i, text in enumerate(text_lines, 1) if "ghp_" in text)


def test_line_numbers_across_chunks_and_long_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files are read in chunks; a finding's line number and a long line's overlap hold."""
    monkeypatch.setattr(secret_scan, "CHUNK", 1000)
    monkeypatch.setattr(secret_scan, "LONG_LINE", 4000)
    monkeypatch.setattr(secret_scan, "OVERLAP", 200)
    lines = [f"row {i}, plain data\n" for i in range(3000)]
    lines[1234] = f"leaked,{GITHUB}\n"
    long_line = "A" * 9000 + f" {GITHUB} " + "b" * 9000 + "\n"  # straddles pieces
    _write(tmp_path, {"data/big.csv": "".join(lines), "data/one_line.txt": "x\n" + long_line})
    assert _findings(tmp_path) == [
        "data/big.csv:1235: GitHub token",
        "data/one_line.txt:2: GitHub token",
    ]


def test_known_values_are_found_in_any_file_of_any_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The storage key after the first 2 MB of a data file, and in a binary file."""
    monkeypatch.setattr(secret_scan, "CHUNK", 1 << 16)
    big = b"x,y\n" * 700_000  # 2.8 MB
    _write(
        tmp_path,
        {
            "data/01_raw/big.csv": big + f"key,{ACCOUNT_KEY}\n".encode(),
            "data/01_raw/model.pkl": b"\x80\x04\x00" + ACCOUNT_KEY.encode() + b"\x00",
            "src/demo/clean.py": "x = 1\n",
        },
    )
    result = scan_contents(scan_code_directory(tmp_path), {"the key": ACCOUNT_KEY})
    assert result.known == {"the key": ["data/01_raw/big.csv", "data/01_raw/model.pkl"]}
    # The binary file is not searched for shapes (noise); the CSV is.
    assert [(f.path, f.line) for f in result.findings] == [("data/01_raw/big.csv", 700_001)]


def test_inline_pragma_baseline_and_amlsecrets_accept_false_positives(tmp_path: Path) -> None:
    baseline_secret = "Zq8&kLm2Vx9!pR4t"
    _write(
        tmp_path,
        {
            "src/demo/a.py": f'API_KEY = "{GITHUB}"  # pragma: allowlist secret\n',
            "src/demo/b.py": f'# pragma: allowlist nextline secret\nAPI_KEY = "{GITHUB}"\n',
            "conf/base/p.yml": f"x:\n  client_secret: '{baseline_secret}'\n",
            "tests/fixtures/fake_aws.ini": "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
            "tests/fixtures/credentials.yml": "user: fake\n",
            "src/demo/still.py": f'TOKEN = "{GITHUB}"\n',
            ".amlsecrets": "# known fakes\ntests/fixtures/\n",
            ".secrets.baseline": json.dumps(
                {
                    "results": {
                        "conf/base/p.yml": [
                            {"type": "Secret Keyword", "hashed_secret": "0" * 40, "line_number": 2}
                        ]
                    }
                }
            ),
        },
    )
    manifest = scan_code_directory(tmp_path)
    assert _findings(tmp_path) == ["src/demo/still.py:1: GitHub token"]
    assert suspicious_files(manifest, Allowlist.for_directory(tmp_path)) == []
    assert suspicious_files(manifest) == ["tests/fixtures/credentials.yml"]
    # A known secret is never accepted, whatever the allowlist says.
    result = scan_contents(manifest, {"the token": GITHUB})
    assert sorted(result.known["the token"]) == [
        "src/demo/a.py",
        "src/demo/b.py",
        "src/demo/still.py",
    ]


@pytest.mark.parametrize(
    "name",
    [
        "service_principal.json",
        "conf/base/my-service-principal.json",
        ".envrc",
        "aws_config.ini",
        "certs/tls.key",
        "server.key",
        ".git-credentials",
        ".netrc",
        "conf/local/settings.yml",
        "conf/base/credentials.yml",
        "deploy/id_ed25519",
    ],
)
def test_secret_file_names(tmp_path: Path, name: str) -> None:
    _write(tmp_path, {name: "x\n", "src/demo/nodes.py": "x = 1\n"})
    assert suspicious_files(scan_code_directory(tmp_path)) == [name]


def test_a_symlink_is_judged_by_its_target(tmp_path: Path) -> None:
    _write(
        tmp_path, {"secrets_store/credentials.yml": "password: x\n", "conf/base/x.yml": "a: 1\n"}
    )
    (tmp_path / ".amlignore").write_text("secrets_store/\n")
    (tmp_path / "conf" / "base" / "settings.yml").symlink_to(
        tmp_path / "secrets_store" / "credentials.yml"
    )
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "credentials.yml").write_text("password: y\n")
    (tmp_path / "conf" / "base" / "other.yml").symlink_to(outside / "credentials.yml")

    assert suspicious_files(scan_code_directory(tmp_path)) == [
        "conf/base/other.yml",
        "conf/base/settings.yml",
    ]


def test_a_broken_baseline_is_a_clear_error(tmp_path: Path) -> None:
    from kedro_azureml.errors import ConfigError

    _write(tmp_path, {".secrets.baseline": "{not json"})
    with pytest.raises(ConfigError, match=r"\.secrets\.baseline is not a detect-secrets baseline"):
        Allowlist.for_directory(tmp_path)


SK_KEY = "sk-proj-" + "Ab3dE9fGh2JkLm5NpQr8StUv1WxYz4" * 2
# (a value that goes into a job, the kinds secret_shapes names): the precise shapes only
VALUE_SHAPES = [
    (CONNECTION, ["Azure storage account key (AccountKey=)"]),
    (f"key:{ACCOUNT_KEY}", ["Azure storage account key"]),
    (
        "https://a.blob.core.windows.net/c?sv=2022-11-02&sr=c&sig=AbCdEf0123456789AbCdEf0123%3D",
        ["Azure SAS signature (sig=)"],
    ),
    (JWT, ["JSON web token"]),
    (GITHUB, ["GitHub token"]),
    (SK_KEY, ["API key (sk-...)"]),
    ("postgresql://scott:t1ger-Pass@db/x", ["password in a URL"]),
    ("sk-learn-model-training-and-evaluation-pipeline", []),
    ("Bearer abcdefghijklmnopqrstuvwxyz0123456789", []),
    ("client_secret=Zq8&kLm2Vx9!pR4t", []),
    (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey="
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;",
        [],
    ),
    ("postgresql://user:password@host:5432/db", []),
    ("azureml://datastores/workspaceblobstore/paths/kedro/companies/v2/", []),
    ("0f3a9c2e4b1d7a6e:eJzrDGBgYGDgcXJ3", []),
]


@pytest.mark.parametrize(
    ("value", "kinds"),
    VALUE_SHAPES,
    ids=[
        "connection-string",
        "account-key",
        "sas",
        "jwt",
        "github",
        "sk-key",
        "url-password",
        "sk-name",
        "bearer-prose",
        "assignment",
        "azurite",
        "url-placeholder",
        "datastore-uri",
        "node-reference",
    ],
)
def test_secret_shapes_of_a_job_value(value: str, kinds: list[str]) -> None:
    assert secret_scan.secret_shapes(value) == kinds
