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
    """`python -m cadenya.sandbox serve` in a child process on 127.0.0.1 and a free port.

    `with SandboxServer(path) as server:` starts it and stops it at the end; `start()` and `stop()` do the same
    by hand. The child stops by itself when this process ends, however it ends (kill -9 included): it holds
    the child's standard input open, and the child exits when that closes. `db` may be a `Path` or a `str`.
    """

    def __init__(self, db: Path | str, *, extra_args: tuple[str, ...] = ()) -> None:
        self.db = Path(db)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None
        self.log = self.db.with_suffix(".log")

    def start(self, timeout: float = 15.0) -> SandboxServer:
        command = [sys.executable, "-m", "cadenya.sandbox", "serve", "--db", str(self.db), "--host", "127.0.0.1",
                   "--port", str(self.port), "--exit-with-parent", *self.extra_args]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_listening(self.port, self.process, timeout)
        except RuntimeError as error:
            self.stop()
            raise RuntimeError(f"{error}:\n{self.log.read_text()}") from None
        return self

    def __enter__(self) -> SandboxServer:
        return self.start() if self.process is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdin is not None:
            process.stdin.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; what survives is what was durable."""
        if self.process is None:
            raise RuntimeError("the sandbox is not running")
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process = None

    def new_account(self, name: str = "Test account") -> dict[str, str]:
        with Store(self.db) as store:
            return store.create_account(name)
