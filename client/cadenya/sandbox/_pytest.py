"""The fixtures of the pytest plugin (`cadenya.lib.pytest_plugin` registers them when the `sandbox` extra is
installed). Each test gets an account of its own in one sandbox per session:

    def test_creates_a_key(cadenya_client, cadenya_webhooks):
        key = cadenya_client.api_keys.create(name="ci")
        assert cadenya_webhooks.wait_for("api_key.created").data.api_key_id == key.metadata.id
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import cadenya

from ._testing import Sandbox, SandboxAccount, WebhookReceiver, fault_header

MODES = ("http", "in-process")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cadenya", "the Cadenya sandbox")
    group.addoption(
        "--cadenya-sandbox",
        choices=MODES,
        default=None,
        help="how the cadenya_sandbox fixture serves: http (a child process on 127.0.0.1, the default) or"
        " in-process (an ASGI transport, no socket)",
    )
    parser.addini("cadenya_sandbox", "http or in-process: as --cadenya-sandbox", default="http")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cadenya_fault(fault, times=1): every call of cadenya_client / async_cadenya_client in this test carries"
        " the sandbox fault (e.g. 'status=503'); the first `times` of them get it",
    )


def _mode(config: pytest.Config) -> str:
    mode = config.getoption("--cadenya-sandbox") or config.getini("cadenya_sandbox")
    if mode not in MODES:
        raise pytest.UsageError(f"cadenya_sandbox must be one of {', '.join(MODES)}, not {mode!r}")
    return str(mode)


@pytest.fixture(scope="session")
def cadenya_sandbox(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One running sandbox for the test session, on a temporary database."""
    database = tmp_path_factory.mktemp("cadenya-sandbox") / "sandbox.db"
    with Sandbox(database, in_process=_mode(request.config) == "in-process") as sandbox:
        yield sandbox


@pytest.fixture
def cadenya_account(cadenya_sandbox: Sandbox) -> SandboxAccount:
    """A fresh account for this test alone: `.id`, `.api_key` (its system key) and `.session_token`."""
    return cadenya_sandbox.new_account()


def _fault_headers(request: pytest.FixtureRequest) -> dict[str, str]:
    marker = request.node.get_closest_marker("cadenya_fault")
    if marker is None:
        return {}
    (fault,) = marker.args
    return fault_header(fault, times=marker.kwargs.get("times"), id=request.node.nodeid)


@pytest.fixture
def cadenya_client(
    cadenya_sandbox: Sandbox, cadenya_account: SandboxAccount, request: pytest.FixtureRequest
) -> Iterator[cadenya.Cadenya]:
    """A `Cadenya` acting as the test's account's system key (with the test's `cadenya_fault`, if marked)."""
    with cadenya_sandbox.client(cadenya_account, headers=_fault_headers(request)) as client:
        yield client


@pytest.fixture
def async_cadenya_client(
    cadenya_sandbox: Sandbox, cadenya_account: SandboxAccount, request: pytest.FixtureRequest
) -> cadenya.AsyncCadenya:
    """An `AsyncCadenya` acting as the test's account's system key, for whichever event loop runs the test."""
    return cadenya_sandbox.async_client(cadenya_account, headers=_fault_headers(request))


@pytest.fixture
def cadenya_webhooks(cadenya_sandbox: Sandbox, cadenya_account: SandboxAccount) -> Iterator[WebhookReceiver]:
    """The test's account's webhook deliveries, verified and typed: `cadenya_webhooks.wait_for("api_key.created")`."""
    with cadenya_sandbox.webhooks(cadenya_account) as receiver:
        yield receiver
