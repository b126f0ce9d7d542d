"""Run the sandbox as a child process on loopback: for tests, scripts and the demo."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ._store import Store


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Return once something accepts connections on 127.0.0.1:`port`; raise if `process` dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early (status {process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the server did not listen on port {port} within {timeout}s")


class SandboxServer:
    """`python -m cadenya.sandbox serve` in a child process, bound to loopback; stops by itself with the test session."""

    def __init__(self, db: Path, *, extra_args: tuple[str, ...] = ()) -> None:
        self.db = db
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None
        self.log = db.with_suffix(".log")

    def start(self, timeout: float = 15.0) -> SandboxServer:
        command = [sys.executable, "-m", "cadenya.sandbox", "serve", "--db", str(self.db), "--host", "127.0.0.1",
                   "--port", str(self.port), *self.extra_args]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_listening(self.port, self.process, timeout)
        except RuntimeError as error:
            self.stop()
            raise RuntimeError(f"{error}:\n{self.log.read_text()}") from None
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; what survives is what was durable."""
        if self.process is None:
            raise RuntimeError("the sandbox is not running")
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def new_account(self, name: str = "Test account") -> dict[str, str]:
        with Store(self.db) as store:
            return store.create_account(name)
