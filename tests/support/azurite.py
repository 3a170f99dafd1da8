"""Run Azurite (the Azure Blob Storage emulator, npm package ``azurite``) for tests.

The binary comes from the repo root's ``package.json`` (``npm ci`` installs it into
``node_modules/``). ``AzuriteBlob`` starts ``azurite-blob`` on 127.0.0.1 at a free port with a
throw-away data folder, waits until the port accepts connections, and stops the process by its
PID (terminate, then kill).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

REPO_ROOT = Path(__file__).resolve().parents[2]
AZURITE_BIN = REPO_ROOT / "node_modules" / ".bin" / "azurite-blob"

#: Azurite's well-known development account and its published key (not a secret).
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
HOST = "127.0.0.1"


class AzuriteError(RuntimeError):
    """Azurite could not be started."""


def free_port(host: str = HOST) -> int:
    """Return a TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class HangUpServer:
    """Accepts TCP connections and closes them at once, counting them: a storage endpoint
    that is there but never answers."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class AzuriteBlob:
    """An ``azurite-blob`` subprocess.

    Attributes once started: ``port``, ``blob_endpoint``
    (``http://127.0.0.1:PORT/devstoreaccount1``), ``connection_string``, ``account_name``,
    ``account_key``, ``location`` (the data folder), ``pid``.
    """

    account_name: str = ACCOUNT_NAME
    account_key: str = ACCOUNT_KEY

    def __init__(
        self,
        location: str | os.PathLike[str] | None = None,
        *,
        binary: str | os.PathLike[str] | None = None,
        startup_timeout: float = 20.0,
    ) -> None:
        self._own_location = location is None
        self.location = Path(location or tempfile.mkdtemp(prefix="azurite-"))
        self.binary = Path(binary) if binary else AZURITE_BIN
        self.startup_timeout = startup_timeout
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_path = self.location / "azurite-stdio.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def blob_endpoint(self) -> str:
        return f"http://{HOST}:{self.port}/{self.account_name}"

    @property
    def connection_string(self) -> str:
        return (
            "DefaultEndpointsProtocol=http;"
            f"AccountName={self.account_name};"
            f"AccountKey={self.account_key};"
            f"BlobEndpoint={self.blob_endpoint};"
        )

    def start(self) -> AzuriteBlob:
        if self._proc is not None:
            return self
        if not self.binary.exists():
            raise AzuriteError(
                f"Azurite is not installed: {self.binary} does not exist. "
                "Run `npm ci` at the repo root (it installs the pinned azurite from package.json)."
            )
        self.location.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        cmd = [
            str(self.binary),
            "--silent",
            "--location",
            str(self.location),
            "--blobHost",
            HOST,
            "--blobPort",
            str(self.port),
            "--loose",
            "--skipApiVersionCheck",
            "--disableTelemetry",
        ]
        with open(self._log_path, "wb") as log:
            self._proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                output = self._log_path.read_text(errors="replace")
                code, self._proc = self._proc.returncode, None
                raise AzuriteError(
                    f"azurite-blob exited with code {code} at start-up "
                    f"(command: {' '.join(cmd)}):\n{output}"
                )
            if _accepts(HOST, self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise AzuriteError(
            f"azurite-blob did not accept connections on {HOST}:{self.port} within "
            f"{self.startup_timeout:.0f} s (command: {' '.join(cmd)}). "
            "If it is missing or broken, run `npm ci` at the repo root."
        )

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._own_location:
            shutil.rmtree(self.location, ignore_errors=True)

    def __enter__(self) -> AzuriteBlob:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
