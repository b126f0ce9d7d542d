"""A client survives `os.fork()`: the child opens its own connections and the parent's pool is untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.sandbox_support import ROOT, SandboxServer

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() exists on POSIX only")

# Run in a fresh interpreter: the test process has threads of its own, and a fork must not copy them.
PROBE = textwrap.dedent(
    """
    import asyncio, json, os, signal, sys, threading
    import cadenya
    from cadenya.api.account import get_account

    style, base_url, token = sys.argv[1:4]
    ports = []

    def record(response):
        ports.append(response.extensions["network_stream"].get_extra_info("client_addr")[1])

    async def record_async(response):
        record(response)

    hook = record if style == "sync" else record_async
    client = cadenya.AuthenticatedClient(
        base_url=base_url, token=token, max_retries=0, httpx_args={"event_hooks": {"response": [hook]}}
    )

    if style == "sync":
        def call():
            return int(get_account.sync_detailed(client=client).status_code)
        parent_call = child_call = call
    else:
        loop = asyncio.new_event_loop()
        async def call():
            return int((await get_account.asyncio_detailed(client=client)).status_code)
        def parent_call():
            return loop.run_until_complete(call())
        def child_call():
            return asyncio.run(call())

    first = parent_call()
    # Another thread of the parent holds the client's lock at the moment of the fork.
    held, release = threading.Event(), threading.Event()
    def hold():
        with client._pool._lock:
            held.set()
            release.wait()
    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        signal.alarm(10)  # a child stuck on the inherited lock ends by itself
        os.close(reader)
        status = child_call()
        os.write(writer, json.dumps({"status": status, "port": ports[-1]}).encode())
        os._exit(0)
    os.close(writer)
    release.set()
    holder.join()
    child = json.loads(os.read(reader, 1000) or b"{}")
    os.waitpid(pid, 0)
    second = parent_call()
    print(json.dumps({"statuses": [first, child.get("status"), second], "parent": ports, "child": child.get("port")}))
    """
)


@pytest.mark.parametrize("style", ["sync", "asyncio"])
def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents(sandbox: SandboxServer, style: str) -> None:
    """Forked while another thread holds the client's lock, the child calls on a new connection of its own, and
    the parent's next call goes on over the connection it had."""
    account = sandbox.new_account("Fork")
    probe = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", "-c", PROBE, style, sandbox.base_url, account["apiKey"]],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    result = json.loads(probe.stdout)
    assert result["statuses"] == [200, 200, 200]
    first_port, second_port = result["parent"]
    assert result["child"] not in (first_port, second_port)
    assert second_port == first_port
