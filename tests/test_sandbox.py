"""The sandbox server itself: spec validation both ways, durability, atomicity, request ids, CLI, limits, hostile
input and the files it keeps."""

from __future__ import annotations

import ast
import asyncio
import base64
import contextlib
import functools
import hashlib
import json
import logging
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from cadenya import AuthenticatedClient
from cadenya.api.account import get_account
from cadenya.api.api_keys import create_api_key, get_api_key, list_api_keys
from cadenya.models import Account, APIKey, APIKeyWithToken, CreateAPIKeyRequest, Error, ListAPIKeysResponse
from cadenya.sandbox import Store, _app, _handlers, _operations, create_app, free_port
from cadenya.sandbox import __main__ as sandbox_cli
from cadenya.sandbox._spec import Spec
from cadenya.sandbox._store import StoreClosed, StoreUnusable
from tests.helpers import close_app, load_spec, open_database, open_files
from tests.sandbox_support import ROOT, Caller, SandboxServer
from tests.test_e2e_error_codes import stalled_exchange

TABLES = ("accounts", "api_keys", "workspaces", "api_key_workspaces", "service_accounts", "credentials")


def _snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    with open_database(db) as connection:
        return {table: connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in TABLES}  # noqa: S608


@functools.cache
def _sandbox_spec() -> Spec:
    return Spec()


def _headers(account: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {account['apiKey']}"}


SURROGATE = b'"\\ud800"'  # a JSON string escape that decodes to no Unicode character


@pytest.mark.parametrize(
    ("method", "path", "content", "status"),
    [
        pytest.param("POST", "/v1/api-keys", b'{"name": "x"', 400, id="truncated-json"),
        pytest.param("POST", "/v1/api-keys", b"name=x", 400, id="form-encoded"),
        pytest.param("POST", "/v1/api-keys", b'{"name": "\xff\xfe"}', 400, id="not-utf8"),
        pytest.param("POST", "/v1/api-keys", b"", 400, id="empty"),
        pytest.param("POST", "/v1/api-keys", b"[]", 422, id="array"),
        pytest.param("POST", "/v1/api-keys", b'{"name": 5}', 422, id="wrong-type"),
        pytest.param("POST", "/v1/api-keys", b'{"description": "no name"}', 422, id="missing-required"),
        pytest.param("POST", "/v1/api-keys", b'{"name": "x", "system": true}', 422, id="server-field"),
        pytest.param("POST", "/v1/api-keys", b'{"name": "x", "permissions": ["nocolon"]}', 422, id="bad-pattern"),
        pytest.param("PATCH", "/v1/account", b'{"labels": {"a": 1}}', 422, id="label-not-string"),
        pytest.param("POST", "/v1/api-keys", b"[" * 1000 + b"]" * 1000, 400, id="nested-1000-deep"),
        pytest.param(
            "PATCH", "/v1/account", b'{"labels": {"a": ' + b"[" * 40 + b"]" * 40 + b"}}", 400, id="nested-42-deep"
        ),
        pytest.param("POST", "/v1/api-keys", b'{"name": ' + b"9" * 4301 + b"}", 400, id="integer-of-4301-digits"),
        pytest.param("POST", "/v1/api-keys", b'{"name": NaN}', 400, id="nan"),
        pytest.param("POST", "/v1/api-keys", b'{"name": "a", "name": "b"}', 400, id="repeated-name"),
        pytest.param("POST", "/v1/api-keys", b'{"name": ' + SURROGATE + b"}", 400, id="surrogate-in-name"),
        pytest.param(
            "POST",
            "/v1/api-keys",
            b'{"name": "x", "description": ' + SURROGATE + b"}",
            400,
            id="surrogate-in-description",
        ),
        pytest.param(
            "POST",
            "/v1/api-keys",
            b'{"name": "x", "externalId": ' + SURROGATE + b"}",
            400,
            id="surrogate-in-external-id",
        ),
        pytest.param(
            "POST", "/v1/api-keys", b'{"name": "x", "permissions": ["read:\\udfff"]}', 400, id="surrogate-in-permission"
        ),
        pytest.param(
            "PATCH", "/v1/account", b'{"labels": {"k": ' + SURROGATE + b"}}", 400, id="surrogate-in-label-value"
        ),
        pytest.param("PATCH", "/v1/account", b'{"labels": {"k\\ud800": "v"}}', 400, id="surrogate-in-label-key"),
        pytest.param(
            "PATCH",
            "/v1/account",
            json.dumps({"labels": {f"k{i}": "v" for i in range(65)}}).encode(),
            422,
            id="65-labels",
        ),
        pytest.param(
            "PATCH", "/v1/account", json.dumps({"labels": {"k" * 64: "v"}}).encode(), 422, id="label-key-of-64"
        ),
        pytest.param(
            "PATCH", "/v1/account", json.dumps({"labels": {"k": "v" * 257}}).encode(), 422, id="label-value-of-257"
        ),
        pytest.param("PATCH", "/v1/account", b'{"labels": {"a b": "v"}}', 422, id="label-key-with-a-space"),
        pytest.param("GET", "/v1/api-keys?pageSize=0", b"", 400, id="page-size-zero"),
        pytest.param("GET", "/v1/api-keys?pageSize=101", b"", 400, id="page-size-over-max"),
        pytest.param("GET", "/v1/api-keys?pageSize=ten", b"", 400, id="page-size-not-integer"),
        pytest.param("GET", "/v1/api-keys?includeRevoked=yes", b"", 400, id="not-a-boolean"),
    ],
)
def test_request_that_violates_the_spec_is_refused_and_changes_nothing(
    sandbox: SandboxServer, account: dict[str, str], method: str, path: str, content: bytes, status: int
) -> None:
    """400 or 422 with the Error body; the database is exactly as before."""
    before = _snapshot(sandbox.db)
    headers = {**_headers(account), "Content-Type": "application/json"}
    response = httpx.request(method, sandbox.base_url + path, content=content, headers=headers)
    assert response.status_code == status, response.text
    assert Error.from_dict(response.json()).code == "invalid_argument"
    assert _snapshot(sandbox.db) == before


def test_every_response_carries_a_request_id(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """Successes, errors and unknown paths all answer with a distinct X-Request-Id."""
    responses = [
        httpx.get(f"{sandbox.base_url}/v1/account", headers=_headers(account)),
        httpx.get(f"{sandbox.base_url}/v1/account"),
        httpx.get(f"{sandbox.base_url}/v2/nothing", headers=_headers(account)),
    ]
    assert [r.status_code for r in responses] == [200, 401, 404]
    ids = [r.headers["X-Request-Id"] for r in responses]
    assert all(i.startswith("req_") for i in ids)
    assert len(set(ids)) == 3
    assert Error.from_dict(responses[2].json()).code == "not_found"


@pytest.mark.parametrize(
    ("method", "path", "operation_id"),
    [
        pytest.param("GET", "/v1/api-keys/", "getApiKey", id="get-api-key"),
        pytest.param("PATCH", "/v1/api-keys/", "updateApiKey", id="update-api-key"),
        pytest.param("DELETE", "/v1/api-keys/", "revokeApiKey", id="revoke-api-key"),
        pytest.param("GET", "/v1/workspaces/", "getWorkspace", id="get-workspace"),
        pytest.param(
            "GET", "/organizations/{account}/service-accounts/", "getServiceAccount", id="get-service-account"
        ),
    ],
)
def test_an_empty_path_id_is_the_documented_json_404_not_a_redirect(
    sandbox: SandboxServer, account: dict[str, str], method: str, path: str, operation_id: str
) -> None:
    """A trailing slash where an id belongs answers 404 `not_found`, as the operation documents, with a request id."""
    url = sandbox.base_url + path.format(account=account["accountId"])
    headers = {**_headers(account), "Content-Type": "application/json"}
    response = httpx.request(method, url, headers=headers, content=b"{}" if method == "PATCH" else b"")
    (operation,) = (op for op in _sandbox_spec().operations if op.operation_id == operation_id)
    assert response.status_code == 404, response.text
    assert response.headers["X-Request-Id"].startswith("req_")
    assert _app._spec_problem(operation, 404, response.json()) == ""
    assert response.json()["code"] == "not_found"


def test_the_spec_is_served_at_openapi_json(sandbox: SandboxServer) -> None:
    """GET /openapi.json is the spec the server validates with."""
    assert httpx.get(f"{sandbox.base_url}/openapi.json").json() == load_spec()


def test_an_operation_gets_one_handler_only() -> None:
    """Registering a second handler for an operation id is refused, naming it, and keeps the first."""
    handlers = _handlers.Handlers()

    def first(call: _handlers.Call) -> Any:
        return None

    handlers.operation("getAccount")(first)
    with pytest.raises(RuntimeError, match="two handlers for getAccount"):
        handlers.operation("getAccount")(lambda call: None)
    assert handlers == {"getAccount": first}


def test_a_response_that_violates_the_spec_is_a_500_and_is_rolled_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, new_app: AppFactory
) -> None:
    """A handler bug is never sent: 500 with the Error body, a log line, and none of its writes kept."""
    app = new_app(tmp_path / "bug.db")
    account = app.state.store.create_account("Bug")
    original = _operations.HANDLERS["createWorkspace"]

    def broken(call: _handlers.Call) -> Any:
        original(call)
        return 201, {"metadata": {"id": 1}}

    monkeypatch.setitem(_operations.HANDLERS, "createWorkspace", broken)

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.invalid") as client:
            return await client.post("/v1/workspaces", json={"name": "w"}, headers=_headers(account))

    with caplog.at_level(logging.ERROR, logger="cadenya.sandbox"):
        response = asyncio.run(post())
    assert response.status_code == 500
    assert Error.from_dict(response.json()).code == "internal"
    assert "createWorkspace violates the spec" in caplog.text
    assert response.headers["X-Request-Id"] in caplog.text
    assert _snapshot(tmp_path / "bug.db")["workspaces"] == []


@pytest.mark.parametrize(
    ("status", "code"),
    [
        pytest.param(409, "reveal_unavailable", id="code-of-another-operation"),
        pytest.param(409, "made_up_code", id="code-outside-the-enum"),
        pytest.param(403, "permission_denied", id="status-not-documented"),
    ],
)
def test_an_error_code_the_spec_does_not_document_is_never_sent(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    status: int,
    code: str,
    new_app: AppFactory,
) -> None:
    """An error the spec does not list for the operation and status becomes a logged 500, with writes rolled back."""
    app = new_app(tmp_path / "codes.db")
    account = app.state.store.create_account("Codes")
    original = _operations.HANDLERS["createWorkspace"]

    def undocumented(call: _handlers.Call) -> Any:
        original(call)
        raise _handlers.ApiError(status, code, "not in the spec")

    monkeypatch.setitem(_operations.HANDLERS, "createWorkspace", undocumented)

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.invalid") as client:
            return await client.post("/v1/workspaces", json={"name": "w"}, headers=_headers(account))

    with caplog.at_level(logging.ERROR, logger="cadenya.sandbox"):
        response = asyncio.run(post())
    assert (response.status_code, response.json()["code"]) == (500, "internal")
    assert "createWorkspace violates the spec" in caplog.text
    assert _snapshot(tmp_path / "codes.db")["workspaces"] == []


def test_every_error_code_literal_in_the_sandbox_is_in_the_spec() -> None:
    """A static check beside the runtime guard: each code the sandbox's source can raise is an ErrorCode."""
    codes = set(load_spec()["components"]["schemas"]["ErrorCode"]["enum"])
    raised: set[str] = set()
    for source in Path(_app.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "ApiError":
                literal = node.args[1] if len(node.args) > 1 else None
                if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
                    raised.add(literal.value)
    assert raised, "no ApiError(...) calls found: the scan is broken"
    assert raised <= codes, raised - codes


def test_create_account_prints_the_tokens_as_json_on_its_last_line(tmp_path: Path) -> None:
    """`python -m sandbox create-account` ends with one JSON object holding accountId, apiKey, sessionToken."""
    result = subprocess.run(
        [sys.executable, "-m", "cadenya.sandbox", "create-account", "--db", str(tmp_path / "cli.db"), "--name", "CLI"],
        capture_output=True, text=True, check=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    created = json.loads(result.stdout.strip().splitlines()[-1])
    assert created["accountId"].startswith("acct_01")
    assert created["apiKey"].startswith("cad_key_")
    assert created["sessionToken"].startswith("cad_sess_")


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        pytest.param(["serve", "--db", "{missing}/s.db"], "argument --db: the directory", id="serve-db-dir"),
        pytest.param(
            ["create-account", "--db", "{missing}/s.db", "--name", "x"],
            "argument --db: the directory",
            id="create-account-db-dir",
        ),
        pytest.param(["serve", "--db", "{tmp}/s.db", "--webhook-url", "ftp://h/x"], "argument --webhook-url", id="ftp"),
        pytest.param(
            ["serve", "--db", "{tmp}/s.db", "--webhook-url", "127.0.0.1:9100"], "argument --webhook-url", id="no-scheme"
        ),
        pytest.param(
            ["serve", "--db", "{tmp}/s.db", "--webhook-url", "http:///hooks"], "argument --webhook-url", id="no-host"
        ),
    ],
)
def test_a_bad_command_line_argument_is_a_one_line_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], busy_port: int, arguments: list[str], complaint: str
) -> None:
    """`cadenya-sandbox` refuses the argument with status 2 and a one-line error, not a traceback; nothing is made."""
    argv = [arg.format(missing=tmp_path / "missing", tmp=tmp_path) for arg in arguments]
    if argv[0] == "serve":
        argv += ["--port", str(busy_port)]
    with pytest.raises(SystemExit) as exit_:
        sandbox_cli.main(argv)
    error_lines = [line for line in capsys.readouterr().err.splitlines() if not line.startswith(("usage:", " "))]
    assert exit_.value.code == 2
    assert len(error_lines) == 1 and complaint in error_lines[0], error_lines
    assert list(tmp_path.iterdir()) == []


def test_serve_refuses_a_port_out_of_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--port 70000` is a usage error, status 2, not an OverflowError from the socket."""
    with pytest.raises(SystemExit) as exit_:
        sandbox_cli.main(["serve", "--db", str(tmp_path / "s.db"), "--port", "70000"])
    assert exit_.value.code == 2
    assert "argument --port: '70000' is not a port number from 1 to 65535" in capsys.readouterr().err


def test_serve_on_a_busy_port_says_so_before_claiming_to_listen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], busy_port: int
) -> None:
    """A port in use is status 2 and one line naming --port; no listening line, no database."""
    status = sandbox_cli.main(["serve", "--db", str(tmp_path / "busy.db"), "--port", str(busy_port)])
    output = capsys.readouterr()
    assert status == 2
    assert output.err == f"cadenya-sandbox: port {busy_port} on 127.0.0.1 is in use; choose another with --port\n"
    assert output.out == ""
    assert not (tmp_path / "busy.db").exists()


def test_concurrent_creates_never_exceed_the_active_key_limit(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """30 concurrent creates at 40 active keys: exactly 10 succeed and 20 get api_key_limit_reached."""
    caller = Caller(sandbox.base_url, account["apiKey"], "sync")
    for index in range(39):
        assert caller(create_api_key, body=CreateAPIKeyRequest(name=f"pre {index}")).status_code == 201

    async def race() -> list[int]:
        limits = httpx.Limits(max_connections=30)
        async with AuthenticatedClient(
            base_url=sandbox.base_url, token=account["apiKey"], httpx_args={"limits": limits}
        ) as client:
            responses = await asyncio.gather(
                *(
                    create_api_key.asyncio_detailed(client=client, body=CreateAPIKeyRequest(name=f"race {i}"))
                    for i in range(30)
                )
            )
        return [r.status_code for r in responses]

    statuses = asyncio.run(race())
    assert sorted(statuses) == [201] * 10 + [409] * 20
    listed = caller(list_api_keys, page_size=100).parsed
    assert isinstance(listed, ListAPIKeysResponse)
    assert len(listed.items) == 50


def test_an_acknowledged_write_survives_kill_9(tmp_path: Path) -> None:
    """SIGKILL right after a 201, then a restart on the same database: the key and its token are there."""
    server = SandboxServer(tmp_path / "durable.db").start()
    try:
        account = server.new_account()
        caller = Caller(server.base_url, account["apiKey"], "sync")
        created = caller(create_api_key, body=CreateAPIKeyRequest(name="durable", revealable=True)).parsed
        assert isinstance(created, APIKeyWithToken)
        server.kill()
        server.start()
        fetched = caller(get_api_key, created.metadata.id).parsed
        assert isinstance(fetched, APIKey) and fetched.metadata.name == "durable"
        assert caller.as_token(created.spec.token)(get_account).status_code == 200
    finally:
        server.stop()


AppFactory = Callable[..., Starlette]


@pytest.fixture
def new_app() -> Iterator[AppFactory]:
    """`create_app`, with the database connections of every app it made closed when the test ends."""
    apps: list[Starlette] = []

    def make(*args: Any, **kwargs: Any) -> Starlette:
        app = create_app(*args, **kwargs)
        apps.append(app)
        return app

    yield make
    for app in apps:
        close_app(app)


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    """`app` served by uvicorn on 127.0.0.1 in a thread of the test process, for limits set per test."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _local_port(response: httpx.Response) -> int:
    """The client-side port of the connection that carried `response`."""
    port: int = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    return port


def _forged_page_token() -> str:
    """A page token as this sandbox once wrote them (plain text: sequence and list), with a sequence of 2**63."""
    scope = hashlib.sha256(repr(("listApiKeys", {}, [])).encode()).hexdigest()[:16]
    return base64.urlsafe_b64encode(f"{2**63}:{scope}".encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        pytest.param("POST", "/v1/workspaces", b"[" * 1000 + b"]" * 1000, id="nested-1000-deep"),
        pytest.param("POST", "/v1/workspaces", b'{"name": ' + b"1" * 4301 + b"}", id="integer-of-4301-digits"),
        pytest.param("POST", "/v1/workspaces", b'{"name": ' + SURROGATE + b"}", id="surrogate-in-name"),
        pytest.param("GET", f"/v1/api-keys?pageToken={_forged_page_token()}", b"", id="page-token-past-2**63"),
    ],
)
def test_a_hostile_request_gets_a_json_error_on_a_connection_that_stays_up(
    sandbox: SandboxServer, account: dict[str, str], method: str, path: str, content: bytes
) -> None:
    """400 with the Error body and a request id; the same kept-alive connection then serves the next request."""
    headers = {**_headers(account), "Content-Type": "application/json"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers) as client:
        hostile = client.request(method, path, content=content)
        first_port = _local_port(hostile)
        following = client.get("/v1/account")
        assert _local_port(following) == first_port
    assert (hostile.status_code, hostile.json()["code"]) == (400, "invalid_argument"), hostile.text
    assert hostile.headers["x-request-id"].startswith("req_")
    assert following.status_code == 200


def test_an_unexpected_failure_is_a_json_500_on_a_connection_that_stays_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, new_app: AppFactory
) -> None:
    """A handler that raises gives the Error body (internal) with a request id, logged; the connection is kept."""
    app = new_app(tmp_path / "crash.db")
    account = app.state.store.create_account("Crash")

    def crash(call: _handlers.Call) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setitem(_operations.HANDLERS, "listWorkspaces", crash)
    with (
        caplog.at_level(logging.ERROR, logger="cadenya.sandbox"),
        serving(app) as base_url,
        httpx.Client(base_url=base_url, headers=_headers(account)) as client,
    ):
        failed = client.get("/v1/workspaces")
        first_port = _local_port(failed)
        following = client.get("/v1/account")
        assert _local_port(following) == first_port
    assert (failed.status_code, failed.json()["code"]) == (500, "internal")
    assert failed.headers["x-request-id"] in caplog.text
    assert following.status_code == 200


def test_a_lone_surrogate_cannot_poison_an_account(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """A label holding \\ud800 is refused before anything is written; every read of the account still works."""
    headers = {**_headers(account), "Content-Type": "application/json"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers) as client:
        refused = client.patch("/v1/account", content=b'{"labels": {"k": ' + SURROGATE + b"}}")
        reads = [client.get(path).status_code for path in ("/v1/account", "/v1/workspaces", "/v1/api-keys")]
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_argument")
    assert reads == [200, 200, 200]


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param(None, id="none"),
        pytest.param("text/plain", id="text"),
        pytest.param("application/x-www-form-urlencoded", id="form"),
        pytest.param("application/xml", id="xml"),
        pytest.param("application/json; charset=latin-1", id="json-in-latin-1"),
    ],
)
def test_a_body_not_sent_as_json_is_415_and_changes_nothing(
    sandbox: SandboxServer, account: dict[str, str], content_type: str | None
) -> None:
    """A JSON-looking body under another Content-Type is unsupported_media_type, not parsed as JSON."""
    before = _snapshot(sandbox.db)
    headers = _headers(account) | ({"Content-Type": content_type} if content_type else {})
    response = httpx.post(f"{sandbox.base_url}/v1/workspaces", content=b'{"name": "w"}', headers=headers)
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")
    assert _snapshot(sandbox.db) == before


def test_json_with_a_utf_8_charset_is_accepted(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """`application/json; charset=utf-8` is JSON."""
    headers = {**_headers(account), "Content-Type": "Application/JSON; charset=UTF-8"}
    response = httpx.post(f"{sandbox.base_url}/v1/workspaces", content=b'{"name": "w"}', headers=headers)
    assert response.status_code == 201


def _answer_head(connection: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one answer (status, headers, body by Content-Length) from a raw connection."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    while len(body) < int(headers["content-length"]):
        body += connection.recv(65536)
    return int(status_line.split()[1]), headers, body


def test_a_body_declared_over_1_mib_is_413_before_it_is_read(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """Content-Length of 50 MB: the answer comes after the headers and a few bytes, without the rest."""
    head = (
        "POST /v1/workspaces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {account['apiKey']}\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=30) as connection:
        connection.sendall(head.encode() + b'{"name": "')
        status, headers, body = _answer_head(connection)
    assert (status, json.loads(body)["code"]) == (413, "payload_too_large")
    assert headers["x-request-id"].startswith("req_")


def test_a_streamed_body_over_1_mib_is_413_and_the_connection_is_reused(
    sandbox: SandboxServer, account: dict[str, str]
) -> None:
    """A chunked body without Content-Length is cut off at 1 MiB while reading; the connection then serves on."""

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(48):
            yield b"x" * 65536
        yield b'"}'

    before = _snapshot(sandbox.db)["workspaces"]
    headers = {**_headers(account), "Content-Type": "application/json"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers) as client:
        refused = client.post("/v1/workspaces", content=chunks())
        first_port = _local_port(refused)
        following = client.get("/v1/account")
        assert _local_port(following) == first_port
    assert (refused.status_code, refused.json()["code"]) == (413, "payload_too_large")
    assert following.status_code == 200
    assert _snapshot(sandbox.db)["workspaces"] == before


def test_a_body_that_stops_arriving_is_408_and_the_connection_is_closed(tmp_path: Path, new_app: AppFactory) -> None:
    """Half a body, then nothing: after the server's body timeout, request_timeout and `Connection: close`."""
    app = new_app(tmp_path / "slow.db", body_timeout=0.3)
    account = app.state.store.create_account("Slow")
    headers = {"Authorization": f"Bearer {account['apiKey']}", "Content-Type": "application/json"}
    with serving(app) as base_url:
        answer = stalled_exchange(base_url, "POST", "/v1/workspaces", headers, b'{"name": "slow"}')
    assert (answer.status_code, answer.json()["code"]) == (408, "request_timeout")
    assert answer.headers["connection"] == "close"
    assert answer.headers["x-request-id"].startswith("req_")


def test_a_write_that_waits_too_long_for_the_lock_is_503_with_retry_after(tmp_path: Path, new_app: AppFactory) -> None:
    """Another writer holds the database past the busy timeout: unavailable with Retry-After, and nothing written."""
    db = tmp_path / "busy.db"
    app = new_app(db, busy_timeout=0.2)
    account = app.state.store.create_account("Busy")
    with serving(app) as base_url, httpx.Client(base_url=base_url, headers=_headers(account)) as client:
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            waited = client.post("/v1/workspaces", json={"name": "w"})
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        after = client.post("/v1/workspaces", json={"name": "w"})
    assert (waited.status_code, waited.json()["code"]) == (503, "unavailable")
    assert waited.headers["retry-after"] == "1"
    assert after.status_code == 201
    with open_database(db) as connection:
        assert [name for (name,) in connection.execute("SELECT name FROM workspaces")] == ["w"]


def _keys_page(base_url: str, token: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{base_url}/v1/api-keys", params=params, headers={"Authorization": f"Bearer {token}"})


def test_a_page_token_altered_anywhere_is_refused(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """Changing any one character of a page token gives 400 invalid_argument, never another page."""
    caller = Caller(sandbox.base_url, account["apiKey"], "sync")
    for index in range(3):
        assert caller(create_api_key, body=CreateAPIKeyRequest(name=f"k{index}")).status_code == 201
    with httpx.Client(base_url=sandbox.base_url, headers=_headers(account)) as client:
        token = client.get("/v1/api-keys", params={"pageSize": 1}).json()["nextPageToken"]
        assert client.get("/v1/api-keys", params={"pageSize": 1, "pageToken": token}).status_code == 200
        statuses = {
            position: client.get("/v1/api-keys", params={"pageSize": 1, "pageToken": altered}).status_code
            for position in range(len(token))
            for altered in [token[:position] + ("1" if token[position] != "1" else "2") + token[position + 1 :]]
        }
    assert {position: status for position, status in statuses.items() if status != 400} == {}


def test_a_page_token_of_another_account_is_refused(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """The same list of another account does not take this account's token."""
    caller = Caller(sandbox.base_url, account["apiKey"], "sync")
    assert caller(create_api_key, body=CreateAPIKeyRequest(name="k")).status_code == 201
    token = _keys_page(sandbox.base_url, account["apiKey"], pageSize=1).json()["nextPageToken"]
    other = sandbox.new_account("Other")
    answer = _keys_page(sandbox.base_url, other["apiKey"], pageSize=1, pageToken=token)
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_argument")


def test_a_page_token_does_not_show_how_many_rows_exist(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """Tokens are encrypted: the sequence they continue after is nowhere in them, decoded or not."""
    caller = Caller(sandbox.base_url, account["apiKey"], "sync")
    assert caller(create_api_key, body=CreateAPIKeyRequest(name="k")).status_code == 201
    token = _keys_page(sandbox.base_url, account["apiKey"], pageSize=1).json()["nextPageToken"]
    with open_database(sandbox.db) as db:
        (sequence,) = db.execute(
            "SELECT MIN(seq) FROM api_keys WHERE account_id = ?", (account["accountId"],)
        ).fetchone()
    decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert str(sequence).encode() not in decoded


def test_the_database_and_its_files_are_readable_by_their_owner_only(tmp_path: Path, new_app: AppFactory) -> None:
    """The database (created, or found world-readable), its -wal and -shm files and the key file are 0600."""
    db = tmp_path / "private.db"
    db.touch(mode=0o644)
    db.chmod(0o644)
    app = new_app(db)
    app.state.store.create_account("Private")
    files = [db, db.with_name("private.db-wal"), db.with_name("private.db-shm"), db.with_name("private.db.key")]
    assert {file.name: stat.S_IMODE(file.stat().st_mode) for file in files} == {file.name: 0o600 for file in files}


def test_webhook_secrets_are_stored_encrypted(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """The database holds no webhook secret in plain text, only what the key file opens."""
    found = Caller(sandbox.base_url, account["apiKey"], "sync")(get_account).parsed
    assert isinstance(found, Account) and isinstance(found.info.webhook_events_hmac_secret, str)
    secret = found.info.webhook_events_hmac_secret
    with open_database(sandbox.db) as db:
        dump = "\n".join(db.iterdump())
    assert secret not in dump
    assert secret.removeprefix("wh_") not in dump


def test_a_webhook_secret_stored_in_plain_text_is_sealed_at_start(tmp_path: Path, new_app: AppFactory) -> None:
    """A database written before secrets were sealed: the secret is encrypted in place and still served."""
    db = tmp_path / "legacy.db"
    account = new_app(db).state.store.create_account("Legacy")
    legacy = "wh_" + base64.b64encode(b"0" * 32).decode()
    with open_database(db) as connection:
        connection.execute("UPDATE accounts SET webhook_secret = ?", (legacy,))
    app = new_app(db)
    with open_database(db) as connection:
        dump = "\n".join(connection.iterdump())

    async def read() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox.invalid") as c:
            return await c.get("/v1/account", headers=_headers(account))

    assert asyncio.run(read()).json()["info"]["webhookEventsHmacSecret"] == legacy
    assert legacy.removeprefix("wh_") not in dump


def test_a_refusal_names_the_limit_without_repeating_the_value(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """A 2,001-character description gets a short message naming the 2,000 limit, not the text sent."""
    response = httpx.patch(
        f"{sandbox.base_url}/v1/account", json={"description": "x" * 2001}, headers=_headers(account)
    )
    error = Error.from_dict(response.json())
    assert (response.status_code, error.code) == (422, "invalid_argument")
    assert "longer than 2000 characters" in error.message
    assert "x" * 50 not in response.text


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to list open files")
def test_closing_a_store_closes_the_connection_of_every_thread(tmp_path: Path) -> None:
    """`Store.close` ends every thread's connection: none is left for the garbage collector (a ResourceWarning)."""
    store = Store(tmp_path / "close.db")
    connections: list[sqlite3.Connection] = []

    def use() -> None:
        with store.transaction(write=False) as connection:
            connections.append(connection)

    threads = [threading.Thread(target=use) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    use()
    store.close()
    assert len({id(connection) for connection in connections}) == 4
    for connection in connections:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            connection.execute("SELECT 1")
    assert _open_files_of(tmp_path / "close.db") == []


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to list open files")
@pytest.mark.parametrize(
    "where",
    [pytest.param("same thread", id="same-thread"), pytest.param("new thread", id="new-thread")],
)
def test_a_closed_store_refuses_use_and_opens_nothing(tmp_path: Path, where: str) -> None:
    """Closing is final: a late user (a thread that outlived the app) gets StoreClosed, and no file is opened again."""
    db = tmp_path / "closed.db"
    store = Store(db)
    store.close()
    failures: list[BaseException] = []

    def use() -> None:
        try:
            with store.transaction(write=False):
                pass
        except BaseException as error:
            failures.append(error)

    if where == "new thread":
        thread = threading.Thread(target=use)
        thread.start()
        thread.join()
    else:
        use()
    assert [type(error) for error in failures] == [StoreClosed]
    assert "closed" in str(failures[0])
    assert _open_files_of(db) == []


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to list open files")
def test_a_connection_opened_while_the_store_closes_is_closed_too(tmp_path: Path) -> None:
    """Threads opening their first connection while another thread closes the store: none stays open."""
    db = tmp_path / "race.db"

    def use(store: Store, start: threading.Barrier) -> None:
        start.wait()
        with contextlib.suppress(StoreClosed, sqlite3.ProgrammingError), store.transaction(write=False):
            pass

    for _ in range(20):
        store, start = Store(db), threading.Barrier(9)
        threads = [threading.Thread(target=use, args=(store, start)) for _ in range(8)]
        for thread in threads:
            thread.start()
        start.wait()
        store.close()
        for thread in threads:
            thread.join()
        assert _open_files_of(db) == []


def _get_account_as(app: Starlette, token: str) -> httpx.Response:
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.invalid") as client:
            return await client.get("/v1/account", headers={"Authorization": f"Bearer {token}"})

    return asyncio.run(get())


def _issue_session_token_ago(db: Path, seconds: float) -> None:
    issued = datetime.now(UTC) - timedelta(seconds=seconds)
    with open_database(db) as connection:
        connection.execute("UPDATE session_tokens SET issued_at = ?", (issued.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),))


@pytest.mark.parametrize(("age", "status"), [(12 * 3600 - 60, 200), (12 * 3600 + 60, 401)])
def test_a_session_token_expires_12_hours_after_it_is_issued(
    tmp_path: Path, new_app: AppFactory, age: float, status: int
) -> None:
    """By default a session token is accepted for 12 hours, then it is the spec's 401 Error."""
    app = new_app(tmp_path / "sessions.db")
    account = app.state.store.create_account("Sessions")
    _issue_session_token_ago(tmp_path / "sessions.db", age)
    answer = _get_account_as(app, account["sessionToken"])
    assert answer.status_code == status
    if status == 401:
        assert Error.from_dict(answer.json()).code == "unauthenticated"


def test_the_session_token_lifetime_is_configurable(tmp_path: Path, new_app: AppFactory) -> None:
    """With session_ttl=60 a token issued 61 seconds ago is refused."""
    app = new_app(tmp_path / "short.db", session_ttl=60)
    account = app.state.store.create_account("Short")
    _issue_session_token_ago(tmp_path / "short.db", 61)
    assert _get_account_as(app, account["sessionToken"]).status_code == 401


def test_a_missing_key_file_beside_a_database_with_data_is_refused(tmp_path: Path) -> None:
    """Without `<db>.key` the encrypted data cannot be read: the store refuses to open, and makes no new key."""
    db = tmp_path / "keyless.db"
    with Store(db) as store:
        store.create_account("Keyless")
    key_file = tmp_path / "keyless.db.key"
    key_file.unlink()
    with pytest.raises(StoreUnusable, match=r"key file .* is missing"):
        Store(db)
    assert not key_file.exists()


def _open_files_of(path: Path) -> list[str]:
    """The descriptors of this process open on `path` (Linux: /proc/self/fd)."""
    return [name for name in open_files() if name == str(path)]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to list open files")
def test_a_store_that_refuses_to_open_leaves_no_connection_open(tmp_path: Path) -> None:
    """A refused Store closes the connection it opened to look, even while its traceback is kept."""
    db = tmp_path / "keyless.db"
    _no_key_file(db)
    with pytest.raises(StoreUnusable) as refused:
        Store(db)
    assert "key file" in str(refused.value) and _open_files_of(db) == []


def _no_key_file(db: Path) -> None:
    with Store(db) as store:
        store.create_account("Keyless")
    db.with_name(db.name + ".key").unlink()


def _not_a_database(db: Path) -> None:
    db.write_bytes(b"this is not an SQLite database" * 100)


def _unreadable_database(db: Path) -> None:
    db.mkdir()


@pytest.mark.parametrize(
    ("spoil", "complaint"),
    [
        pytest.param(_no_key_file, "is missing", id="missing-key-file"),
        pytest.param(_not_a_database, "cannot use the database", id="not-a-database"),
        pytest.param(_unreadable_database, "cannot open", id="a-directory"),
    ],
)
def test_a_startup_error_is_one_line_on_stderr_and_status_2(
    tmp_path: Path, spoil: Callable[[Path], None], complaint: str
) -> None:
    """`serve` on a database it cannot use exits 2 with one `cadenya-sandbox:` line and no traceback."""
    db = tmp_path / "spoiled.db"
    spoil(db)
    result = subprocess.run(
        [sys.executable, "-m", "cadenya.sandbox", "serve", "--db", str(db), "--port", str(free_port())],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cadenya-sandbox: ") and complaint in lines[0], result.stderr


def _closed_by_server(connection: socket.socket) -> bool:
    try:
        return connection.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_half_open_connections_beyond_the_cap_are_dropped_and_requests_are_served(tmp_path: Path) -> None:
    """300 connections that send half a header, cap 50: all are closed after the 0.5 s header timeout; a request
    made after them is answered."""
    server = SandboxServer(tmp_path / "idle.db", extra_args=("--header-timeout", "0.5", "--max-connections", "50"))
    server.start()
    connections = []
    try:
        for _ in range(300):
            connection = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            connection.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: sandbox")
            connections.append(connection)
        opened = time.monotonic()
        for connection in connections:
            connection.settimeout(max(0.01, opened + 3 - time.monotonic()))
        assert all(_closed_by_server(connection) for connection in connections)
        assert time.monotonic() - opened < 3
        assert httpx.get(f"{server.base_url}/openapi.json", timeout=5).status_code == 200
    finally:
        for connection in connections:
            connection.close()
        server.stop()


def test_a_request_within_the_header_timeout_is_served(tmp_path: Path) -> None:
    """The header timeout ends idle connections only: a request sent on a connection within it is answered."""
    server = SandboxServer(tmp_path / "timely.db", extra_args=("--header-timeout", "1")).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
            connection.sendall(b"GET /openapi.json HTTP/1.1\r\n")
            time.sleep(0.5)
            connection.sendall(b"Host: sandbox\r\nConnection: close\r\n\r\n")
            assert connection.recv(12) == b"HTTP/1.1 200"
    finally:
        server.stop()
