"""Where ``run --local`` puts the code snapshot its steps run in: outside every Kedro project.

A step on Azure ML sees its snapshot and nothing else. A local snapshot inside the project
folder would let Kedro find the project's own ``pyproject.toml`` in a parent folder and run the
live code instead, so a snapshot that Azure ML could not run would pass here. The snapshots of
a run live under the system's temporary folder (or the user's cache folder, when the temporary
folder itself lies in a Kedro project) and are removed when the run ends; the run folder keeps
the list of files each snapshot held. A run killed with ``kill -9`` cannot clean up: the next
run removes snapshots whose runner process is gone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from kedro_azureml.errors import KedroAzureMLError

OWNER_FILE = ".owner-pid"


def _user_tag() -> str:
    getuid = getattr(os, "getuid", None)
    return str(getuid()) if getuid else os.environ.get("USERNAME", "user")


def kedro_project_above(folder: Path) -> Path | None:
    """The nearest folder at or above ``folder`` that Kedro would take for a project."""
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        try:
            if "[tool.kedro]" in pyproject.read_text(errors="replace"):
                return candidate
        except OSError:
            continue
    return None


def snapshots_home() -> Path:
    """A per-user folder for snapshots that no Kedro project encloses."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    candidates = [Path(tempfile.gettempdir()).resolve(), Path(cache).resolve() / "kedro-azureml"]
    for base in candidates:
        enclosing = kedro_project_above(base)
        if enclosing is None:
            return base / f"kedro-azureml-snapshots-{_user_tag()}"
    raise KedroAzureMLError(
        f"run --local makes its code snapshot outside any Kedro project, but the temporary "
        f"folder {candidates[0]} and the cache folder {candidates[1]} both lie inside one "
        f"({enclosing}). Set TMPDIR to a folder outside every Kedro project."
    )


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned(home: Path) -> None:
    """Remove snapshots of runs whose runner died without cleaning up (e.g. ``kill -9``)."""
    if not home.is_dir():
        return
    for folder in home.iterdir():
        try:
            pid = int((folder / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # being created right now, or not ours
        if not _process_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)


# (code directory, destination) -> (the files copied, the ignore file that chose them): copy
# the code as Azure ML uploads it, refusing a snapshot Kedro cannot run. Given by the command
# that starts the run (commands/run_local.py), so local/ never imports project/.
CodeSnapshot = Callable[[Path, Path], tuple[Sequence[str], str | None]]


class LocalSnapshots:
    """The code snapshots of one run, made on first use and removed by :meth:`cleanup`."""

    def __init__(
        self, run_id: str, run_dir: Path, copy: CodeSnapshot, home: Path | None = None
    ) -> None:
        self.run_dir = run_dir
        self.copy = copy
        self.home = home or snapshots_home()
        self.root = self.home / run_id
        self._made: dict[Path, Path] = {}
        self._unlisted: dict[Path, tuple[Sequence[str], str | None]] = {}
        self._count = 0
        self._lock = threading.Lock()

    def path_for(self, code: Path) -> Path:
        """The snapshot of ``code`` as Azure ML would take it; refused when Kedro can't run it."""
        with self._lock:
            if code not in self._made:
                self._made[code] = self._make(code)
            return self._made[code]

    def _make(self, code: Path) -> Path:
        if not self._count:
            remove_abandoned(self.home)
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            (self.root / OWNER_FILE).write_text(str(os.getpid()))
        destination = self.root / f"{self._count}" / code.name
        self._count += 1
        self._unlisted[code] = self.copy(code, destination)
        return destination

    def keep_only(self, codes: Sequence[Path]) -> None:
        """Keep the snapshots of ``codes``, the ones the steps run in, and list their files in
        the run folder; remove any other (one made on a guess, before the job was compiled)."""
        with self._lock:
            unused = {code: path for code, path in self._made.items() if code not in codes}
            for code in unused:
                del self._made[code]
                self._unlisted.pop(code, None)
            listings = {code: self._unlisted.pop(code) for code in codes if code in self._unlisted}
        for path in unused.values():
            shutil.rmtree(path.parent, ignore_errors=True)
        for code, (files, ignore_file) in listings.items():
            (self.run_dir / f"snapshot-{code.name}.txt").write_text(
                f"# The files of {code} that the steps saw (Azure ML's rules: ignore file "
                f"{ignore_file or 'none'}, empty files dropped).\n"
                + "".join(f"{name}\n" for name in files)
            )

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
