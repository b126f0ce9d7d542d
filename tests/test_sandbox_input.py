"""What the sandbox does with input outside the contract, sent byte for byte over HTTP on 127.0.0.1: paths as
sent (no client normalises them), numbers JSON cannot carry, strings that only Python's regex dialect accepts,
and repeated credentials. Each is refused with the spec's Error body and leaves the database as it was."""

from __future__ import annotations

import http.client
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import open_database
from tests.sandbox_support import SandboxServer

TABLES = ("accounts", "api_keys", "workspaces", "api_key_workspaces", "service_accounts", "credentials")


def _snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    with open_database(db) as connection:
        return {table: connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in TABLES}  # noqa: S608


def _raw_request(
    sandbox: SandboxServer, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes | None = None
) -> tuple[int, Any]:
    """Send `path` and `headers` exactly as given (dot segments, escapes and repeated headers kept): status, JSON."""
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Type", "application/json")
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        content = response.read()
    finally:
        connection.close()
    return response.status, json.loads(content) if content else None


def _bearer(account: dict[str, str]) -> list[tuple[str, str]]:
    return [("Authorization", f"Bearer {account['apiKey']}")]


def _create(sandbox: SandboxServer, account: dict[str, str], path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(sandbox.base_url + path, json=body, headers=dict(_bearer(account)))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_an_encoded_slash_is_part_of_the_id_it_appears_in(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """DELETE …/service-accounts/{sa}%2Fcredentials%2F{cred} names one unknown service account: 404, nothing deleted."""
    service_accounts = f"/organizations/{account['accountId']}/service-accounts"
    robot = _create(sandbox, account, service_accounts, {"name": "robot"})["id"]
    credential = _create(sandbox, account, f"{service_accounts}/{robot}/credentials", {"name": "job"})["id"]
    before = _snapshot(sandbox.db)
    status, body = _raw_request(
        sandbox, "DELETE", f"{service_accounts}/{robot}%2Fcredentials%2F{credential}", _bearer(account)
    )
    assert (status, body["code"]) == (404, "not_found")
    assert f"{robot}/credentials/{credential}" in body["message"]
    assert _snapshot(sandbox.db) == before


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/v1/api-keys/./{key}", id="dot"),
        pytest.param("/v1/workspaces/../api-keys/{key}", id="dot-dot"),
        pytest.param("/v1/workspaces/%2e%2e/api-keys/{key}", id="encoded-dot-dot"),
        pytest.param("/v1/workspaces/%2E%2E/api-keys/{key}", id="upper-case-encoded-dot-dot"),
        pytest.param("/v1/workspaces/.%2e/api-keys/{key}", id="half-encoded-dot-dot"),
        pytest.param("/v1/api-keys/{key}/workspaces/..", id="trailing-dot-dot"),
        pytest.param("/v1%2Fapi-keys%2F{key}", id="encoded-slashes-only"),
    ],
)
def test_a_dot_segment_is_never_navigation(sandbox: SandboxServer, account: dict[str, str], path: str) -> None:
    """A path that would revoke a key once its dot segments were resolved is unknown: 404 and the key stays."""
    key = _create(sandbox, account, "/v1/api-keys", {"name": "kept"})["metadata"]["id"]
    before = _snapshot(sandbox.db)
    status, body = _raw_request(sandbox, "DELETE", path.format(key=key), _bearer(account))
    assert (status, body["code"]) == (404, "not_found")
    assert _snapshot(sandbox.db) == before


@pytest.mark.parametrize(
    ("segment", "id_"),
    [
        pytest.param("..", "..", id="dot-dot"),
        pytest.param(".", ".", id="dot"),
        pytest.param("%2e%2e", "..", id="encoded-dot-dot"),
        pytest.param("%2E", ".", id="encoded-dot"),
    ],
)
def test_a_dot_segment_where_an_id_belongs_is_that_id(
    sandbox: SandboxServer, account: dict[str, str], segment: str, id_: str
) -> None:
    """GET /v1/api-keys/.. looks up the API key `..`: 404 not_found naming it, never the list one level up."""
    status, body = _raw_request(sandbox, "GET", f"/v1/api-keys/{segment}", _bearer(account))
    assert (status, body["code"]) == (404, "not_found")
    assert f"'{id_}'" in body["message"]


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        pytest.param("POST", "/v1/workspaces", b'{"name": 1e400}', id="1e400"),
        pytest.param("POST", "/v1/workspaces", b'{"name": -1e400}', id="minus-1e400"),
        pytest.param("POST", "/v1/workspaces", b'{"name": 1.7976931348623159E+308}', id="just-over-the-largest-double"),
        pytest.param("POST", "/v1/workspaces", b"1e400", id="1e400-as-the-body"),
        pytest.param("PATCH", "/v1/account", b'{"labels": {"k": 1e400}}', id="1e400-as-a-label"),
        pytest.param("POST", "/v1/api-keys", b'{"name": "k", "permissions": [1e999]}', id="1e999-in-an-array"),
        pytest.param("POST", "/v1/workspaces", b'{"name": NaN}', id="nan"),
        pytest.param("POST", "/v1/workspaces", b'{"name": Infinity}', id="infinity"),
        pytest.param("POST", "/v1/workspaces", b'{"name": -Infinity}', id="minus-infinity"),
    ],
)
def test_a_number_json_cannot_carry_is_malformed_json(
    sandbox: SandboxServer, account: dict[str, str], method: str, path: str, content: bytes
) -> None:
    """A number beyond a double's range, NaN or Infinity: 400 invalid_argument naming the body, nothing stored."""
    before = _snapshot(sandbox.db)
    status, body = _raw_request(sandbox, method, path, _bearer(account), content)
    assert (status, body["code"]) == (400, "invalid_argument"), body
    assert body["details"][0]["field"] == "body"
    assert _snapshot(sandbox.db) == before


def test_a_finite_number_is_parsed_and_then_checked_against_the_schema(
    sandbox: SandboxServer, account: dict[str, str]
) -> None:
    """1e308 is JSON: the body parses and fails as a wrong type (422), not as malformed JSON."""
    status, body = _raw_request(sandbox, "POST", "/v1/workspaces", _bearer(account), b'{"name": 1e308}')
    assert (status, body["code"], body["details"][0]["field"]) == (422, "invalid_argument", "name")


@pytest.mark.parametrize(
    "second",
    [
        pytest.param(None, id="the-same-key-twice"),
        pytest.param("garbage", id="key-then-garbage"),
        pytest.param("Bearer cad_key_" + "0" * 36, id="key-then-unknown-key"),
        pytest.param("", id="key-then-empty"),
    ],
)
def test_several_authorization_headers_are_unauthenticated(
    sandbox: SandboxServer, account: dict[str, str], second: str | None
) -> None:
    """Two Authorization headers are 401 unauthenticated even when the first is valid, and nothing is written."""
    (valid,) = _bearer(account)
    headers = [valid, valid if second is None else ("Authorization", second)]
    before = _snapshot(sandbox.db)
    status, body = _raw_request(sandbox, "POST", "/v1/workspaces", headers, b'{"name": "w"}')
    assert (status, body["code"]) == (401, "unauthenticated")
    assert _snapshot(sandbox.db) == before


def test_a_valid_key_after_garbage_is_unauthenticated(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """The order of repeated Authorization headers does not matter: garbage then a valid key is 401 too."""
    status, body = _raw_request(sandbox, "GET", "/v1/account", [("Authorization", "garbage"), *_bearer(account)])
    assert (status, body["code"]) == (401, "unauthenticated")
