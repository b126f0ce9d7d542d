from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import load_spec, open_files
from tests.sandbox_support import Caller, SandboxServer, assert_no_spec_violations
from tests.tiers import SANDBOX_API, SANDBOX_PROCESS, TOOLING, WIRE


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by the tier tests/tiers.py puts its file in: where `make test` runs it."""
    for item in items:
        if item.path.name in TOOLING:
            item.add_marker(pytest.mark.tooling)
        elif item.path.name in SANDBOX_PROCESS | SANDBOX_API:
            item.add_marker(pytest.mark.server)
        elif item.path.name in WIRE:
            item.add_marker(pytest.mark.wire)


_DATABASE_FILE = re.compile(r"\.db( \(deleted\))?$")


def _open_databases() -> set[str]:
    """The SQLite databases this process has a descriptor open on."""
    return {name for name in open_files() if _DATABASE_FILE.search(name)}


@pytest.fixture(autouse=True)
def no_database_left_open() -> Iterator[None]:
    """Each test closes every database it opens. One left to the garbage collector is a ResourceWarning on
    Python 3.13, raised in whichever later test the collection happens to run in."""
    before = _open_databases()
    yield
    left = _open_databases() - before
    assert not left, f"the test left these databases open: {sorted(left)}"


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    """The parsed openapi.yaml."""
    return load_spec()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """One sandbox server on 127.0.0.1 for the whole session, on a temporary database."""
    server = SandboxServer(tmp_path_factory.mktemp("sandbox") / "sandbox.db").start()
    yield server
    server.stop()
    assert_no_spec_violations(server)


@pytest.fixture
def account(sandbox: SandboxServer) -> dict[str, str]:
    """A fresh account (its own tenant) with its system key and session token."""
    return sandbox.new_account()


@pytest.fixture(params=["sync", "asyncio"])
def api(request: pytest.FixtureRequest, sandbox: SandboxServer, account: dict[str, str]) -> Caller:
    """Calls as the account's system key, in the sync or the asyncio style."""
    return Caller(sandbox.base_url, account["apiKey"], request.param)


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port something listens on: a command that gets past its checks fails fast on it."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield busy.getsockname()[1]
