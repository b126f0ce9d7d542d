"""The sandbox outside pytest: `Sandbox` and `SandboxServer` for unittest users and scripts, and the CLI's
webhook commands (cadenya/sandbox/_testing.py, _process.py, __main__.py)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import cadenya
from cadenya.sandbox import Sandbox, SandboxServer, Store, WebhookTimeout, create_app
from cadenya.sandbox._trigger import TRIGGERS
from tests.helpers import close_app, open_files
from tests.sandbox_support import ROOT

MODES = [pytest.param(False, id="http"), pytest.param(True, id="in-process")]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("in_process", MODES)
def test_a_sandbox_starts_hands_out_accounts_and_stops_on_exit(in_process: bool) -> None:
    """In a `with` block: accounts of their own, working clients; after it, no server and no temporary files."""
    with Sandbox(in_process=in_process) as sandbox:
        first, second = sandbox.new_account("First"), sandbox.new_account("Second")
        with sandbox.client(first) as client:
            client.api_keys.create(name="only in the first")
        with sandbox.client(second) as client:
            assert [key.spec.system for key in client.api_keys.list()] == [True]
        database, port = sandbox.db, sandbox._server.port if sandbox._server else None
        assert database.exists()
    assert not database.exists() and not database.parent.exists()
    if port is not None:
        assert not _listening(port)


@pytest.mark.parametrize("in_process", MODES)
def test_a_sandbox_leaves_no_database_file_open_in_this_process(tmp_path: Path, in_process: bool) -> None:
    """After the `with` block, with calls, events and their delivery done, nothing of it is open: no
    connection is left for the garbage collector to find (a ResourceWarning on Python 3.13)."""
    db = tmp_path / "kept.db"
    with Sandbox(db, in_process=in_process) as sandbox:
        account = sandbox.new_account()
        with sandbox.webhooks(account) as hooks, sandbox.client(account, max_retries=0) as client:
            client.api_keys.create(name="evented")
            hooks.wait_for("api_key.created", timeout=10)

        async def from_a_loop() -> int:
            async with sandbox.async_client(account, max_retries=0) as async_client:
                return len([key async for key in async_client.api_keys.list()])

        assert asyncio.run(from_a_loop()) == 2
    assert [name for name in open_files() if name.startswith(str(db))] == []


@pytest.mark.parametrize("in_process", MODES)
@pytest.mark.parametrize("event_type", sorted(TRIGGERS))
def test_a_trigger_makes_a_real_event_of_that_type(in_process: bool, event_type: str) -> None:
    """Each trigger does what causes its event, and the event arrives, verified, at the account's receiver."""
    with Sandbox(in_process=in_process) as sandbox:
        account = sandbox.new_account()
        with sandbox.webhooks(account) as hooks:
            done = sandbox.trigger(account, event_type)
            event = hooks.wait_for(event_type, timeout=10)
    assert event.type_ == event_type and done["eventType"] == event_type
    assert event.data.account_id == account.id  # type: ignore[union-attr]
    if "apiKeyId" in done:
        assert event.data.api_key_id == done["apiKeyId"]  # type: ignore[union-attr]


def test_an_unknown_trigger_names_the_known_ones() -> None:
    """A type the sandbox cannot cause is refused with the list of those it can."""
    with Sandbox(in_process=True) as sandbox, pytest.raises(ValueError, match=r"api_key\.created, api_key\.revoked"):
        sandbox.trigger(sandbox.new_account(), "invoice.paid")


def test_an_event_waited_for_in_vain_fails_with_what_arrived() -> None:
    """wait_for raises WebhookTimeout, an AssertionError, listing the events that did arrive."""
    with Sandbox(in_process=True) as sandbox:
        account = sandbox.new_account()
        with sandbox.webhooks(account) as hooks:
            sandbox.trigger(account, "api_key.created")
            hooks.wait_for("api_key.created")
            with pytest.raises(WebhookTimeout, match=r"arrived: api_key\.created at") as raised:
                hooks.wait_for("api_key.revoked", timeout=0.5)
    assert isinstance(raised.value, AssertionError)


def test_paths_may_be_given_as_text(tmp_path: Path) -> None:
    """SandboxServer, Store, create_app and Sandbox take a str where they take a Path."""
    text = str(tmp_path / "text.db")
    with Store(text) as store:
        assert store.path == Path(text)
    app = create_app(text)
    try:
        assert app.state.store.path == Path(text)
    finally:
        close_app(app)
    with SandboxServer(text) as server:
        assert server.db == Path(text)
        account = server.new_account()
        with cadenya.Cadenya(token=account["apiKey"], base_url=server.base_url) as client:
            assert client.account.get().metadata.id == account["accountId"]  # type: ignore[union-attr]
    with Sandbox(text) as sandbox:
        assert sandbox.db == Path(text)


ORPHANED = textwrap.dedent(
    """
    import sys, time
    from cadenya.sandbox import SandboxServer

    server = SandboxServer(sys.argv[1]).start()
    print(server.process.pid, flush=True)
    time.sleep(120)
    """
)


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status  # a zombie has exited; only its entry waits to be reaped


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads process states from /proc")
def test_no_sandbox_outlives_a_parent_killed_with_sigkill(tmp_path: Path) -> None:
    """The parent that started the server is killed with SIGKILL; the server notices and exits within seconds."""
    parent = subprocess.Popen(
        [sys.executable, "-c", ORPHANED, str(tmp_path / "orphan.db")], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    child = int(parent.stdout.readline())  # type: ignore[union-attr]
    try:
        assert _alive(child)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child), "the sandbox outlived its parent"
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)
        parent.stdout.close()  # type: ignore[union-attr]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cadenya.sandbox", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_cli_sets_a_webhook_url_lists_deliveries_redelivers_and_triggers(tmp_path: Path) -> None:
    """Against a running server: webhook-url points the account at a receiver, trigger makes an event, deliveries
    lists it delivered, redeliver sends it again with the same id."""
    db = tmp_path / "cli.db"
    with Sandbox(db) as sandbox:
        account = sandbox.new_account()
        with sandbox.webhooks(account) as hooks:
            assert _cli("webhook-url", "--db", str(db), "--account", account.id, hooks.url).returncode == 0
            triggered = _cli("trigger", "api_key.created", "--base-url", sandbox.base_url, "--api-key", account.api_key)
            assert triggered.returncode == 0, triggered.stderr
            assert json.loads(triggered.stdout)["eventType"] == "api_key.created"
            first = hooks.wait_for("api_key.created")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                listed = _cli("deliveries", "--db", str(db), "--account", account.id, "--json")
                records = [json.loads(line) for line in listed.stdout.splitlines()]
                if records and records[-1]["state"] == "delivered":
                    break
                time.sleep(0.1)
            assert [(r["event_type"], r["attempts"], r["last_status"], r["state"]) for r in records] == [
                ("api_key.created", 1, "204", "delivered")
            ]
            table = _cli("deliveries", "--db", str(db), "--account", account.id).stdout
            assert records[0]["message_id"] in table and "delivered" in table
            assert _cli("redeliver", "--db", str(db), records[0]["message_id"]).returncode == 0
            again = hooks.wait_for("api_key.created")
    assert again.to_dict() == first.to_dict()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["webhook-url", "--account", "acct_missing", "http://127.0.0.1:9/"], "no account 'acct_missing'",
                     id="webhook-url-unknown-account"),
        pytest.param(["deliveries", "--account", "acct_missing"], "no account 'acct_missing'", id="deliveries-unknown"),
        pytest.param(["redeliver", "msg_missing"], "no event 'msg_missing'", id="redeliver-unknown"),
    ],
)  # fmt: skip
def test_a_cli_lookup_that_finds_nothing_is_one_line_and_status_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """An unknown account or event id: one line on stderr naming it, status 2, no traceback."""
    command, *rest = args
    result = _cli(command, "--db", str(tmp_path / "empty.db"), *rest)
    assert result.returncode == 2
    assert result.stderr.strip() == f"cadenya-sandbox: {message} in this database"


def test_trigger_without_a_key_or_with_an_unknown_type_is_status_2() -> None:
    """trigger needs a key of the account and an event type it can cause."""
    env_free = _cli("trigger", "api_key.created", "--api-key", "")
    assert env_free.returncode == 2 and "--api-key" in env_free.stderr
    unknown = _cli("trigger", "invoice.paid", "--api-key", "cad_key_x")
    assert unknown.returncode == 2 and "api_key.created" in unknown.stderr


def test_another_process_writing_the_database_of_an_in_process_sandbox_breaks_nothing() -> None:
    """Accounts made by the create-account command beside an in-process sandbox: its own calls still answer
    200 (opening a Store in the process once dropped the app's SQLite locks: a 500 "disk I/O error")."""
    with Sandbox(in_process=True) as sandbox:
        for _ in range(3):
            created = _cli("create-account", "--db", str(sandbox.db), "--name", "beside")
            assert created.returncode == 0, created.stderr
            account = sandbox.new_account()
            with sandbox.client(account, max_retries=0) as client:
                assert client.account.get().metadata.id == account.id  # type: ignore[union-attr]
