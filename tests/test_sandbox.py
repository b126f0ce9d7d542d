"""The sandbox server itself: spec validation both ways, durability, atomicity, request ids, CLI."""

from __future__ import annotations

import ast
import asyncio
import json
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from cadenya import AuthenticatedClient
from cadenya.api.account import get_account
from cadenya.api.api_keys import create_api_key, get_api_key, list_api_keys
from cadenya.models import APIKey, APIKeyWithToken, CreateAPIKeyRequest, Error, ListAPIKeysResponse
from cadenya.sandbox import _app, create_app
from tests.helpers import load_spec
from tests.sandbox_support import ROOT, Caller, SandboxServer

TABLES = ("accounts", "api_keys", "workspaces", "api_key_workspaces", "service_accounts", "credentials")


def _snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(db) as connection:
        return {table: connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in TABLES}  # noqa: S608


def _headers(account: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {account['apiKey']}"}


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
    response = httpx.request(method, sandbox.base_url + path, content=content, headers=_headers(account))
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


def test_the_spec_is_served_at_openapi_json(sandbox: SandboxServer) -> None:
    """GET /openapi.json is the spec the server validates with."""
    assert httpx.get(f"{sandbox.base_url}/openapi.json").json() == load_spec()


def test_a_response_that_violates_the_spec_is_a_500_and_is_rolled_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler bug is never sent: 500 with the Error body, a log line, and none of its writes kept."""
    app = create_app(tmp_path / "bug.db")
    account = app.state.store.create_account("Bug")
    original = _app.HANDLERS["createWorkspace"]

    def broken(call: _app.Call) -> Any:
        original(call)
        return 201, {"metadata": {"id": 1}}

    monkeypatch.setitem(_app.HANDLERS, "createWorkspace", broken)

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
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, status: int, code: str
) -> None:
    """An error the spec does not list for the operation and status becomes a logged 500, with writes rolled back."""
    app = create_app(tmp_path / "codes.db")
    account = app.state.store.create_account("Codes")
    original = _app.HANDLERS["createWorkspace"]

    def undocumented(call: _app.Call) -> Any:
        original(call)
        raise _app.ApiError(status, code, "not in the spec")

    monkeypatch.setitem(_app.HANDLERS, "createWorkspace", undocumented)

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
