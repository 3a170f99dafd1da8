"""The code snapshot is Azure ML's file set: the SDK's own walker is the oracle.

``azure.ai.ml._utils._asset_utils.get_upload_files_from_folder`` with ``get_ignore_file`` is
what ``az ml job create`` and ``MLClient.jobs.create_or_update`` upload for a code folder. Our
walker must give the same set for every rule set, less what we drop on purpose (empty files,
which never arrive, the never-uploaded folders, dangling links).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from kedro_azureml.errors import ConfigError
from kedro_azureml.project.snapshot import (
    copy_snapshot,
    never_uploaded,
    scan_code_directory,
)

TEMPLATE = (
    Path(__file__).resolve().parents[2] / "src" / "kedro_azureml" / "templates" / "amlignore.tmpl"
).read_text()

TREE = (
    "README.md",
    "x.md",
    "info.log",
    "pipeline.yaml",
    "pipeline_prod.yaml",
    "pyproject.toml",
    "notes.txt",
    "#x",
    "ab.txt",
    "src/pkg/__init__.py",
    "src/pkg/nodes.py",
    "src/pkg/logs/reader.py",
    "src/pkg.egg-info/PKG-INFO",
    "conf/base/catalog.yml",
    "conf/base/pipeline_settings.yaml",
    "conf/local/credentials.yml",
    "conf/local/settings.yml",
    "data/01_raw/a.csv",
    "data/01_raw/sub/c.csv",
    "data/02_intermediate/b.csv",
    "data/08_reporting/plot.png",
    "docs/keep.md",
    "docs/other.md",
    "docs/sub/keep.md",
    "docs/sub/deeper/note.md",
    "secrets/public.txt",
    "secrets/private.txt",
    "logs/run.log",
    "logs/keep.txt",
    ".venv/lib/site.py",
    "build/lib/x.py",
    "a/b/c/d.txt",
    "a/x/d.txt",
    "shared_raw/s.csv",
    "notebooks/explore.ipynb",
)

RULE_SETS = {
    "no-ignore-file": {},
    "gitignore-only": {".gitignore": "data/\n*.log\n"},
    "amlignore-wins": {".amlignore": "docs/\n", ".gitignore": "src/\n"},
    "init-template": {".amlignore": TEMPLATE},
    "secrets-public": {".amlignore": "secrets/\n!secrets/public.txt\n"},
    "data-raw": {".amlignore": "data/\n!data/01_raw/\n"},
    "data-star-raw": {".amlignore": "data/*\n!data/01_raw/\ndata/01_raw/sub/\n"},
    "docs-keep": {".amlignore": "docs/\n!docs/keep.md\n"},
    "docs-star-sub": {".amlignore": "docs/*\n!docs/sub/\n"},
    "unanchored-negation": {".amlignore": "*.md\n!keep.md\n"},
    "everything-but-md": {".amlignore": "*\n!*.md\n"},
    "root-star-but-src": {".amlignore": "/*\n!/src\n"},
    "double-star": {".amlignore": "**/sub\na/**/d.txt\n"},
    "logs-negated": {".amlignore": "*.log\n!logs/\n"},
    "anchored-vs-not": {".amlignore": "/logs\nbuild\n"},
    "comments-blank-escapes": {".amlignore": "# a comment\n\n\\#x\nnotes.txt   \n[ab]*.txt\n"},
    "negation-of-excluded-parent": {".amlignore": "a/\n!a/b/c/\n"},
    "pipeline-yaml-anchored": {".amlignore": "/pipeline*.yaml\n"},
    "symlinked-folder": {".amlignore": "data/*\n!data/01_raw/\n", "link": "data/01_raw/linked"},
    "symlinked-file": {".amlignore": "conf/local/\n", "file_link": "conf/base/link.yml"},
    "negation-reaching-into-venv": {".amlignore": ".venv/\n!.venv/lib/\n"},
}


def _make_tree(root: Path, rules: dict[str, str]) -> None:
    for rel in TREE:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content of {rel}\n")
    (root / "data" / "01_raw" / "empty.csv").write_text("")  # Azure ML drops empty files
    for name in (".amlignore", ".gitignore"):
        if name in rules:
            (root / name).write_text(rules[name])
    if "link" in rules:  # a folder outside the rules' reach, linked in
        (root / rules["link"]).symlink_to(root / "shared_raw", target_is_directory=True)
    if "file_link" in rules:
        (root / rules["file_link"]).symlink_to(root / "x.md")


def sdk_file_set(root: Path) -> set[str]:
    """What the Azure ML SDK uploads for code folder ``root``, less what we drop on purpose."""
    from azure.ai.ml._utils._asset_utils import get_ignore_file, get_upload_files_from_folder

    uploads = get_upload_files_from_folder(root, prefix="", ignore_file=get_ignore_file(root))
    return {
        dest
        for source, dest in uploads
        if os.path.exists(source) and os.path.getsize(source) and not never_uploaded(dest)
    }


@pytest.mark.parametrize("rules", list(RULE_SETS.values()), ids=list(RULE_SETS))
def test_file_set_is_the_sdks(tmp_path: Path, rules: dict[str, str]) -> None:
    root = tmp_path / "project"
    _make_tree(root, rules)

    ours = scan_code_directory(root)

    assert set(ours.files) == sdk_file_set(root)
    assert len(ours.files) == len(set(ours.files))
    assert ours.total_bytes == sum(os.path.getsize(root / f) for f in ours.files)


@pytest.mark.parametrize(
    ("rules", "kept", "dropped"),
    [
        ("secrets-public", {"secrets/public.txt"}, {"secrets/private.txt"}),
        (
            "data-raw",
            {"data/01_raw/a.csv", "data/01_raw/sub/c.csv"},
            {"data/02_intermediate/b.csv"},
        ),
        ("docs-keep", {"docs/keep.md"}, {"docs/other.md", "docs/sub/keep.md"}),
        ("init-template", {"data/01_raw/a.csv", "conf/base/pipeline_settings.yaml"}, set()),
    ],
    ids=["secrets", "data", "docs", "template"],
)
def test_negations_re_include_as_azure_ml_does(
    tmp_path: Path, rules: str, kept: set[str], dropped: set[str]
) -> None:
    """The issue's cases, spelled out (the oracle test above covers them too)."""
    _make_tree(tmp_path, RULE_SETS[rules])
    files = set(scan_code_directory(tmp_path).files)
    assert kept <= files
    assert not dropped & files


def test_init_template_leaves_out_logs_compiled_yaml_and_secrets(tmp_path: Path) -> None:
    _make_tree(tmp_path, {".amlignore": TEMPLATE})
    files = set(scan_code_directory(tmp_path).files)
    for left_out in (
        "info.log",
        "logs/run.log",
        "logs/keep.txt",
        "pipeline.yaml",
        "pipeline_prod.yaml",
        "conf/local/credentials.yml",
        ".venv/lib/site.py",
        "data/02_intermediate/b.csv",
    ):
        assert left_out not in files, left_out
    # Anchored at the root: same-named things elsewhere are code or config, and stay.
    assert {"src/pkg/logs/reader.py", "conf/base/pipeline_settings.yaml"} <= files


@pytest.mark.parametrize(
    "ignore",
    [{}, {".gitignore": "*.pyc\n"}, {".amlignore": "!.git/\n!.azure/\n!**\n"}],
    ids=["no-ignore-file", "gitignore-only", "negations"],
)
def test_credential_folders_never_go_up(tmp_path: Path, ignore: dict[str, str]) -> None:
    _make_tree(tmp_path, ignore)
    planted = (
        ".git/config",
        ".azure/accessTokens.json",
        ".ssh/id_rsa",
        ".aws/credentials",
        ".kube/config",
        ".docker/config.json",
        "src/vendored/.git/config",
        "src/submodule/.git",
    )
    for rel in planted:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("url = https://user:ghp_token@github.com/x/y\n")
    (tmp_path / ".docker" / "daemon.json").write_text("{}\n")

    files = set(scan_code_directory(tmp_path).files)

    assert not files & set(planted)
    assert ".docker/daemon.json" in files
    assert "README.md" in files


def test_symlinked_folder_is_followed_and_a_loop_once(tmp_path: Path) -> None:
    root = tmp_path / "project"
    _make_tree(root, {})
    outside = tmp_path / "raw_elsewhere"
    outside.mkdir()
    (outside / "big.csv").write_text("x\n1\n")
    (root / "data" / "01_raw" / "external").symlink_to(outside, target_is_directory=True)
    (root / "src" / "pkg" / "loop").symlink_to(root / "src", target_is_directory=True)

    manifest = scan_code_directory(root)

    assert "data/01_raw/external/big.csv" in manifest.files
    assert manifest.link_targets["data/01_raw/external/big.csv"] == (outside / "big.csv").resolve()
    assert not [f for f in manifest.files if "/loop/" in f]
    assert any("src/pkg/loop" in w and "loop" in w for w in manifest.warnings)
    copy_snapshot(manifest, tmp_path / "copy")
    assert (tmp_path / "copy" / "data" / "01_raw" / "external" / "big.csv").read_text() == "x\n1\n"
    assert not (tmp_path / "copy" / "data" / "01_raw" / "external").is_symlink()


def test_dangling_symlink_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _make_tree(tmp_path, {})
    (tmp_path / "src" / "pkg" / ".#nodes.py").symlink_to("user@host.1234:1700000000")

    with caplog.at_level(logging.WARNING, logger="kedro_azureml.project.snapshot"):
        manifest = scan_code_directory(tmp_path)

    assert "src/pkg/nodes.py" in manifest.files
    assert "src/pkg/.#nodes.py" not in manifest.files
    (warning,) = manifest.warnings
    assert warning == (
        "Skipped src/pkg/.#nodes.py in the code snapshot: it is a symlink to "
        "user@host.1234:1700000000, which does not exist."
    )
    assert warning in caplog.text
    copy_snapshot(manifest, tmp_path / "copy")  # no error either


def test_an_invalid_pattern_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / ".amlignore").write_text("data/\n!\n")
    with pytest.raises(ConfigError, match=r"\.amlignore:2: '!' is not a valid ignore pattern"):
        scan_code_directory(tmp_path)
