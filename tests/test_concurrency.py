"""What may be shared between threads, tasks, event loops and forked processes, against a real sandbox.

The sandbox here logs every request with the client's port (`serve --log-level debug`), so a test can tell
how many connections its calls took, and which.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import pytest

import cadenya
from cadenya import AsyncCadenya, AuthenticatedClient, Cadenya, webhooks
from cadenya.api.workspaces import create_workspace, get_workspace
from cadenya.models import Account, APIKeyCreatedEvent, CreateWorkspaceRequest, SessionAccount, Workspace
from cadenya.sandbox import Sandbox, fault_header
from tests.sandbox_support import ROOT, SandboxServer, assert_no_spec_violations

T = TypeVar("T")

THREADS = 16
CALLS_PER_THREAD = 25
TASKS = 200

_ACCESS = re.compile(r'127\.0\.0\.1:(\d+) - "([A-Z]+) (\S+) HTTP/[0-9.]+" (\d{3})')


class Logged(NamedTuple):
    """One request as the sandbox logged it."""

    port: int
    method: str
    path: str
    status: int


class ConnectionLog:
    """The requests the sandbox logs from the moment this is made on."""

    def __init__(self, server: SandboxServer) -> None:
        self.path = server.log
        self.start = self.path.stat().st_size

    def requests(self, expected: int) -> list[Logged]:
        """The requests logged since, once at least `expected` of them are (waiting at most 10 s for the
        lines to be written)."""
        deadline = time.monotonic() + 10
        while True:
            with self.path.open("rb") as log:
                log.seek(self.start)
                text = log.read().decode("utf-8", "replace")
            found = [
                Logged(int(match[1]), match[2], match[3], int(match[4]))
                for match in map(_ACCESS.search, text.splitlines())
                if match
            ]
            if len(found) >= expected or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """A sandbox of this module's own: it logs each request with its client port, and has the fault switch.
    It admits more connections than the default 100, so that the number of connections is the client's."""
    path = tmp_path_factory.mktemp("concurrency") / "sandbox.db"
    extra = ("--log-level", "debug", "--faults", "--max-connections", "1000")
    with SandboxServer(path, extra_args=extra) as running:
        yield running
    assert_no_spec_violations(running)


@pytest.fixture
def token(server: SandboxServer) -> str:
    """The system key of a fresh account."""
    return server.new_account("Concurrency")["apiKey"]


def in_threads(count: int, work: Callable[[int], T]) -> list[T]:
    """`work(0)` ... `work(count - 1)`, each in its own thread, started together; their results in order."""
    start = threading.Barrier(count)

    def run(index: int) -> T:
        start.wait(timeout=10)
        return work(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def _workspace(answer: object) -> Workspace:
    assert isinstance(answer, Workspace), answer
    return answer


def _account_id(answer: Account | SessionAccount) -> str:
    assert isinstance(answer, Account), answer
    return answer.metadata.id


# --- threads ------------------------------------------------------------------------------------------------


def test_threads_sharing_one_cadenya_each_get_their_own_answers(server: SandboxServer, token: str) -> None:
    """16 threads x 25 calls on one Cadenya all succeed, and each answer is the workspace its thread asked for."""
    with Cadenya(base_url=server.base_url, token=token) as client:

        def work(thread: int) -> list[tuple[str, str]]:
            seen = []
            for call in range(CALLS_PER_THREAD):
                if call % 5 == 0:
                    created = client.workspaces.create(name=f"thread-{thread}-{call}")
                    assert created.metadata.name == f"thread-{thread}-{call}"
                    mine = created
                else:
                    got = client.workspaces.get(mine.metadata.id)
                    assert (got.metadata.id, got.metadata.name) == (mine.metadata.id, mine.metadata.name)
                seen.append((mine.metadata.id, mine.metadata.name))
            return seen

        results = in_threads(THREADS, work)

    assert sum(map(len, results)) == THREADS * CALLS_PER_THREAD
    created_ids = {workspace_id for seen in results for workspace_id, _ in seen}
    assert len(created_ids) == THREADS * CALLS_PER_THREAD // 5


def test_threads_sharing_one_authenticated_client_each_get_their_own_answers(server: SandboxServer, token: str) -> None:
    """16 threads x 25 calls of the operation functions on one AuthenticatedClient all succeed, each its own."""
    with AuthenticatedClient(base_url=server.base_url, token=token) as client:

        def work(thread: int) -> int:
            done = 0
            for call in range(CALLS_PER_THREAD):
                if call % 5 == 0:
                    name = f"op-{thread}-{call}"
                    mine = _workspace(create_workspace.sync(client=client, body=CreateWorkspaceRequest(name=name)))
                    assert mine.metadata.name == name
                else:
                    response = get_workspace.sync_detailed(mine.metadata.id, client=client)
                    assert response.status_code == 200
                    got = _workspace(response.parsed)
                    assert (got.metadata.id, got.metadata.name) == (mine.metadata.id, mine.metadata.name)
                done += 1
            return done

        assert in_threads(THREADS, work) == [CALLS_PER_THREAD] * THREADS


def test_threads_sharing_one_client_share_its_connections(server: SandboxServer, token: str) -> None:
    """400 calls from 16 threads on one Cadenya take at most 16 connections, one per thread at a time."""
    with Cadenya(base_url=server.base_url, token=token) as client:
        workspace = client.workspaces.create(name="shared")
        log = ConnectionLog(server)

        def work(_: int) -> None:
            for _ in range(CALLS_PER_THREAD):
                client.workspaces.get(workspace.metadata.id)

        in_threads(THREADS, work)
    logged = log.requests(THREADS * CALLS_PER_THREAD)
    assert len(logged) == THREADS * CALLS_PER_THREAD
    assert {request.status for request in logged} == {200}
    assert len({request.port for request in logged}) <= THREADS


def test_copies_made_in_threads_share_the_connections(server: SandboxServer, token: str) -> None:
    """A fresh with_options or with_headers copy for every one of 160 calls from 8 threads: at most 8
    connections, so the copies use the original's pool rather than pools of their own."""
    threads, calls = 8, 20
    with Cadenya(base_url=server.base_url, token=token) as client:
        workspace = client.workspaces.create(name="copies")
        log = ConnectionLog(server)

        def work(thread: int) -> None:
            for call in range(calls):
                if call % 2:
                    client.with_options(timeout=30.0 + thread, max_retries=call % 3).workspaces.get(
                        workspace.metadata.id
                    )
                else:
                    copy = client.client.with_headers({"X-Caller": f"{thread}-{call}"})
                    assert get_workspace.sync_detailed(workspace.metadata.id, client=copy).status_code == 200

        in_threads(threads, work)
    logged = log.requests(threads * calls)
    assert len(logged) == threads * calls
    assert len({request.port for request in logged}) <= threads


def test_a_copy_with_a_token_has_connections_of_its_own(server: SandboxServer, token: str) -> None:
    """A with_options copy given a token, the same one even, calls over connections the original never uses."""
    with Cadenya(base_url=server.base_url, token=token) as client:
        log = ConnectionLog(server)
        for _ in range(3):
            client.account.get()
        with client.with_options(token=token) as copy:
            for _ in range(3):
                copy.account.get()
        for _ in range(3):
            client.account.get()
    logged = log.requests(9)
    assert [request.status for request in logged] == [200] * 9
    original = {request.port for request in logged[:3] + logged[6:]}
    assert len(original) == 1
    assert not original & {request.port for request in logged[3:6]}


def test_header_copies_used_from_threads_each_send_their_own_headers(server: SandboxServer, token: str) -> None:
    """16 with_headers copies, one per thread, each with its own Idempotency-Key: every thread's five creates
    replay its own first answer; a key sent by another copy would be a 409 for a different body."""
    run = uuid.uuid4().hex
    with AuthenticatedClient(base_url=server.base_url, token=token) as client:

        def work(thread: int) -> tuple[str, list[str]]:
            copy = client.with_headers({"Idempotency-Key": f"copy-{run}-{thread}"})
            ids, replayed = [], []
            for _ in range(5):
                body = CreateWorkspaceRequest(name=f"header-{thread}")
                response = create_workspace.sync_detailed(client=copy, body=body)
                assert response.status_code == 201, response.parsed
                ids.append(_workspace(response.parsed).metadata.id)
                replayed.append(response.headers.get("Idempotent-Replayed", "false"))
            assert len(set(ids)) == 1
            return ids[0], replayed

        results = in_threads(THREADS, work)
    assert len({workspace_id for workspace_id, _ in results}) == THREADS
    assert all(replayed == ["false", "true", "true", "true", "true"] for _, replayed in results)


def test_option_copies_used_from_threads_each_keep_their_own_timeout(server: SandboxServer, token: str) -> None:
    """with_options copies in 8 threads at once, each call answered a second late: the copies with a 0.1 s
    timeout time out, those with 30 s get their answer."""
    with Cadenya(base_url=server.base_url, token=token, max_retries=0) as client:
        client.account.get()  # one connection opened before the copies are made

        def work(thread: int) -> str:
            copy = client.with_options(timeout=0.1 if thread % 2 else 30.0)
            try:
                copy.account.get(extra_headers=fault_header("delay=1"))
            except cadenya.APITimeoutError:
                return "timed out"
            return "answered"

        outcomes = in_threads(8, work)
    assert outcomes == ["answered", "timed out"] * 4


# --- tasks and event loops ----------------------------------------------------------------------------------


def test_tasks_sharing_one_async_cadenya_each_get_their_own_answers(server: SandboxServer, token: str) -> None:
    """200 tasks gathered on one AsyncCadenya all succeed, each with the workspace it asked for."""
    with Cadenya(base_url=server.base_url, token=token) as setup:
        workspaces = [setup.workspaces.create(name=f"task-{index}") for index in range(TASKS)]

    async def main() -> list[tuple[str, str]]:
        async with AsyncCadenya(base_url=server.base_url, token=token) as client:

            async def one(workspace: Workspace) -> tuple[str, str]:
                got = await client.workspaces.get(workspace.metadata.id)
                return got.metadata.id, got.metadata.name

            return await asyncio.gather(*(one(workspace) for workspace in workspaces))

    answers = asyncio.run(main())
    assert answers == [(workspace.metadata.id, workspace.metadata.name) for workspace in workspaces]


def test_an_async_client_serves_two_successive_event_loops(server: SandboxServer, token: str) -> None:
    """One AsyncCadenya, `async with` in each of two asyncio.run calls: both loops' calls succeed, the second
    on a connection of its own loop."""
    client = AsyncCadenya(base_url=server.base_url, token=token)
    log = ConnectionLog(server)

    async def call() -> str:
        async with client:
            return _account_id(await client.account.get())

    first, second = asyncio.run(call()), asyncio.run(call())
    assert first == second
    logged = log.requests(2)
    assert [request.status for request in logged] == [200, 200]
    assert logged[0].port != logged[1].port


def test_two_event_loops_at_once_each_with_its_own_async_client(server: SandboxServer, token: str) -> None:
    """Two threads, each running its own loop with its own AsyncCadenya, 100 calls each at the same time:
    all succeed with their own answers."""
    with Cadenya(base_url=server.base_url, token=token) as setup:
        workspaces = [setup.workspaces.create(name=f"loop-{index}") for index in range(2)]

    def loop(index: int) -> set[str]:
        async def main() -> set[str]:
            async with AsyncCadenya(base_url=server.base_url, token=token) as client:
                names: set[str] = set()
                for _ in range(10):
                    got = await asyncio.gather(
                        *(client.workspaces.get(workspaces[index].metadata.id) for _ in range(10))
                    )
                    names.update(workspace.metadata.name for workspace in got)
                return names

        return asyncio.run(main())

    assert in_threads(2, loop) == [{"loop-0"}, {"loop-1"}]


# --- fork ---------------------------------------------------------------------------------------------------

# Run in a fresh interpreter: the test process has threads of its own, and a fork must not copy them.
FORK_PROBE = textwrap.dedent(
    """
    import json, os, signal, sys
    from concurrent.futures import ThreadPoolExecutor
    from cadenya import Cadenya

    base_url, token = sys.argv[1:3]
    client = Cadenya(base_url=base_url, token=token, max_retries=0)
    before, child, after = (client.workspaces.create(name=name).metadata.id for name in ("before", "child", "after"))
    with ThreadPoolExecutor(4) as pool:  # several connections in the pool, the threads gone before the fork
        list(pool.map(lambda _: client.workspaces.get(before), range(8)))
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        signal.alarm(10)  # a stuck child ends by itself
        os.close(reader)
        try:
            answer = client.workspaces.get(child).metadata.name
        except BaseException as error:
            answer = repr(error)
        os.write(writer, answer.encode())
        os._exit(0)
    os.close(writer)
    child_answer = os.read(reader, 1000).decode()
    os.waitpid(pid, 0)
    client.workspaces.get(after)
    print(json.dumps({"child": child_answer, "ids": [before, child, after]}))
    """
)


@pytest.fixture(scope="module")
def forked(server: SandboxServer) -> tuple[dict[str, Any], list[Logged]]:
    """A process uses one Cadenya from 4 threads, forks, the child calls once, then the parent does: what
    the process printed, and the requests the sandbox logged from it."""
    if not hasattr(os, "fork"):
        pytest.skip("os.fork() exists on POSIX only")
    token = server.new_account("Fork")["apiKey"]
    log = ConnectionLog(server)
    probe = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", "-c", FORK_PROBE, server.base_url, token],
        capture_output=True, text=True, cwd=ROOT, timeout=30, check=False,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    printed: dict[str, Any] = json.loads(probe.stdout)
    return printed, log.requests(3 + 8 + 2)


def test_a_forked_child_calls_over_a_connection_of_its_own(forked: tuple[dict[str, Any], list[Logged]]) -> None:
    """The child's call after the fork succeeds, on a port none of the parent's calls used."""
    printed, logged = forked
    _, child, _ = printed["ids"]
    assert printed["child"] == "child"
    child_ports = {request.port for request in logged if request.path == f"/v1/workspaces/{child}"}
    parent_ports = {request.port for request in logged if request.path != f"/v1/workspaces/{child}"}
    assert len(child_ports) == 1
    assert not child_ports & parent_ports


def test_the_parent_goes_on_over_its_own_connections_after_a_fork(
    forked: tuple[dict[str, Any], list[Logged]],
) -> None:
    """The parent's call after the fork reuses a connection it opened before it."""
    printed, logged = forked
    _, child, after = printed["ids"]
    after_the_fork = (f"/v1/workspaces/{child}", f"/v1/workspaces/{after}")
    before_fork = {request.port for request in logged if request.path not in after_the_fork}
    [after_fork] = [request for request in logged if request.path == f"/v1/workspaces/{after}"]
    assert after_fork.status == 200
    assert after_fork.port in before_fork


# --- models, webhooks, the sandbox --------------------------------------------------------------------------


def test_each_call_returns_model_objects_of_its_own(server: SandboxServer, token: str) -> None:
    """Two calls for the same workspace return distinct objects: changing one thread's result leaves the
    other's as it came."""
    with Cadenya(base_url=server.base_url, token=token) as client:
        workspace = client.workspaces.create(name="original")
        first, second = in_threads(2, lambda _: client.workspaces.get(workspace.metadata.id))
    first.metadata.name = "changed"
    assert second.metadata.name == "original"
    assert second.to_dict() == workspace.to_dict()


def test_webhook_verification_from_threads_gives_each_its_own_event() -> None:
    """16 threads verify 50 deliveries each, signed with their own secret: each gets its own events back, and
    a delivery signed with another thread's secret is refused."""
    secrets = [f"whsec_{os.urandom(24).hex()}" for _ in range(THREADS)]

    def work(thread: int) -> list[str]:
        ids = []
        for number in range(50):
            payload = json.dumps(
                {"type": "api_key.created", "timestamp": "2026-11-02T09:15:27Z",
                 "data": {"accountId": f"acct_{thread}", "apiKeyId": f"key_{thread}_{number}"}}
            )  # fmt: skip
            headers = webhooks.sign(payload, secrets[thread], message_id=f"msg_{thread}_{number}")
            event = webhooks.verify(payload, headers, secrets[thread])
            assert isinstance(event, APIKeyCreatedEvent)
            ids.append(event.data.api_key_id)
            with pytest.raises(webhooks.WebhookVerificationError):
                webhooks.verify(payload, headers, secrets[(thread + 1) % THREADS])
        return ids

    results = in_threads(THREADS, work)
    assert results == [[f"key_{thread}_{number}" for number in range(50)] for thread in range(THREADS)]


@pytest.mark.parametrize("in_process", [False, True], ids=["http", "in-process"])
def test_a_sandbox_hands_out_accounts_to_threads_at_once(tmp_path: Path, in_process: bool) -> None:
    """8 threads each take a new account from one Sandbox at the same time and call as it: 8 accounts, each
    thread's client acting as its own."""
    with Sandbox(tmp_path / "sandbox.db", in_process=in_process) as sandbox:

        def work(_: int) -> tuple[str, str]:
            account = sandbox.new_account()
            with sandbox.client(account) as client:
                return account.id, _account_id(client.account.get())

        results = in_threads(8, work)
    assert all(created == called for created, called in results)
    assert len({created for created, _ in results}) == 8
