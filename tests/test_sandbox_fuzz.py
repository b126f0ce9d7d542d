"""Hostile requests against a real sandbox on 127.0.0.1: every answer is one the spec documents, and the
server, its connections and its data survive.

hypothesis builds, for every operation, requests with hostile bodies (deep nesting, huge integers, numbers
beyond a double, lone surrogates, wrong types, huge strings, patterned strings with a trailing newline, bytes
that are not JSON, wrong content types), credentials (repeated Authorization headers too), headers, path ids
(%2F and dot segments, sent as raw bytes) and query strings. The run is bounded (EXAMPLES per operation) and derandomized, so it is the same
on every machine. One keep-alive connection carries every request of an operation: a server that dropped
it would fail the next example.
"""

from __future__ import annotations

import http.client
import json
import sqlite3
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from cadenya.sandbox import SandboxServer
from tests.helpers import load_spec, open_database, operations, resolve
from tests.sandbox_support import assert_no_spec_violations

EXAMPLES = 20
SPEC = load_spec()
OPERATIONS = {op["operationId"]: (method.upper(), path, op) for method, path, op in operations(SPEC)}
ERROR = Draft202012Validator(
    {"$ref": "#/components/schemas/Error", "components": SPEC["components"]},
)
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/json; charset=latin-1",
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/xml",
    "multipart/form-data; boundary=x",
    "json",
    "",
    None,
]
QUERY_NAMES = ["pageSize", "pageToken", "includeRevoked", "expand[]", "page_size", "page_token", "unknown"]
ASCII = st.characters(min_codepoint=0x21, max_codepoint=0x7E)


@dataclass
class Target:
    server: SandboxServer
    tokens: list[str | None]
    ids: dict[str, list[str]]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    server = SandboxServer(tmp_path_factory.mktemp("fuzz") / "fuzz.db").start()
    account = server.new_account("Fuzz")
    system = {"Authorization": f"Bearer {account['apiKey']}"}
    with httpx.Client(base_url=server.base_url, headers=system, timeout=30) as http:

        def create(path: str, body: dict[str, Any]) -> dict[str, Any]:
            answer = http.post(path, json=body)
            assert answer.status_code == 201, answer.text
            created: dict[str, Any] = answer.json()
            return created

        staging = create("/v1/workspaces", {"name": "staging"})["metadata"]["id"]
        prod = create("/v1/workspaces", {"name": "prod"})["metadata"]["id"]
        limited = create("/v1/api-keys", {"name": "limited", "workspaceIds": [staging], "revealable": True})
        empty = create("/v1/api-keys", {"name": "empty"})
        organization = f"/organizations/{account['accountId']}/service-accounts"
        service_account = create(organization, {"name": "robot"})["id"]
        credential = create(f"{organization}/{service_account}/credentials", {"name": "job"})["id"]
        system_key = http.get("/v1/account").json()["info"]["globalApiKey"]["metadata"]["id"]
    yield Target(
        server,
        tokens=[
            account["apiKey"],
            limited["spec"]["token"],
            empty["spec"]["token"],
            account["sessionToken"],
            "cad_key_" + "0" * 36,
            "not a token",
            None,
        ],
        ids={
            "workspaceId": [staging, prod],
            "apiKeyId": [limited["metadata"]["id"], empty["metadata"]["id"], system_key],
            "organization_id": [account["accountId"]],
            "service_account_id": [service_account],
            "credential_id": [credential],
        },
    )
    server.stop()
    assert_no_spec_violations(server)
    with open_database(server.db) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert not list(_patterned_values_with_a_newline(db))


def _patterned_values_with_a_newline(db: sqlite3.Connection) -> Iterator[str]:
    """Stored label keys and permissions that end with a newline, which their patterns forbid."""
    for table in ("accounts", "workspaces", "api_keys"):
        for (labels,) in db.execute(f"SELECT labels FROM {table} WHERE labels IS NOT NULL"):  # noqa: S608
            yield from (key for key in json.loads(labels) if key.endswith("\n"))
    for (permissions,) in db.execute("SELECT permissions FROM api_keys WHERE permissions IS NOT NULL"):
        yield from (permission for permission in json.loads(permissions) if permission.endswith("\n"))


def _text() -> st.SearchStrategy[str]:
    """Text that a JSON parser accepts but that is not always valid Unicode: lone surrogates included."""
    surrogate = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
    return st.one_of(
        st.text(max_size=20),
        st.lists(st.one_of(st.characters(), surrogate), min_size=1, max_size=6).map("".join),
        st.sampled_from(["x" * 201, "x" * 2001, "é" * 300, "\x00", "", "abc\n", "read:keys\n", "a.b\n"]),
    )


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False), _text()
    )
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=3) | st.dictionaries(_text(), children, max_size=3),
        max_leaves=8,
    )


def _raw_bodies() -> st.SearchStrategy[bytes]:
    """Bodies no JSON encoder would write."""
    return st.one_of(
        st.sampled_from([1000, 5000, 200_000]).map(lambda depth: b"[" * depth + b"]" * depth),
        st.sampled_from([1000, 5000]).map(lambda depth: b'{"name": ' + b'{"a": ' * depth + b"1" + b"}" * (depth + 1)),
        st.sampled_from([4301, 10_000]).map(lambda digits: b'{"name": ' + b"9" * digits + b"}"),
        st.sampled_from([b"NaN", b'{"name": Infinity}', b'{"name": "a", "name": "b"}', b'{"name": "\\ud800"}']),
        st.sampled_from([b'{"name": 1e400}', b'{"labels": {"k": -1e400}}', b"[1e999]", b"-Infinity", b"1E+309"]),
        st.sampled_from([1 << 20, 3 << 20]).map(lambda size: b'{"name": "' + b"x" * size + b'"}'),
        st.sampled_from([b"name=x", b"<name>x</name>", b"\xff\xfe\x00", b"", b"{", b"null", b"[]"]),
        st.binary(max_size=64),
    )


def _bodies(op: dict[str, Any]) -> st.SearchStrategy[bytes]:
    schema = resolve(SPEC, op["requestBody"]["content"]["application/json"]["schema"]) if "requestBody" in op else {}
    fields = [*sorted(schema.get("properties", {})), "unknown"]
    labels = st.dictionaries(_text(), _text(), max_size=4) | st.sampled_from([{f"k{i}": "v" for i in range(200)}])
    value = st.one_of(_json_values(), labels, st.lists(_text(), max_size=3))
    shaped = st.dictionaries(st.sampled_from(fields), value, max_size=4).map(lambda body: json.dumps(body).encode())
    return st.one_of(shaped, _raw_bodies())


def _path(path: str, ids: dict[str, list[str]]) -> st.SearchStrategy[str]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    odd = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/"), min_size=1, max_size=300)
    values = st.fixed_dictionaries({name: st.sampled_from(ids[name]) | odd for name in names})
    return values.map(lambda chosen: path.format(**{k: _segment(v) for k, v in chosen.items()}))


def _segment(value: str) -> str:
    """`value` as one path segment, dots included: an unencoded `.` or `..` would be resolved away by the client."""
    return urllib.parse.quote(value, safe="").replace(".", "%2E")


def _query() -> st.SearchStrategy[list[tuple[str, str]]]:
    values = st.one_of(
        st.text(alphabet=ASCII, max_size=40),
        st.sampled_from(["0", "1", "100", "101", "-1", "true", "false", "permissions", "9" * 5000, "x" * 600]),
    )
    return st.lists(st.tuples(st.sampled_from(QUERY_NAMES), values), max_size=4)


def _check(op: dict[str, Any], response: httpx.Response) -> None:
    """A documented answer: an Error with a code listed for this operation and status, or a success."""
    assert response.headers.get("x-request-id", "").startswith("req_"), response.text
    assert response.headers.get("connection") != "close", response.status_code
    assert response.status_code != 500, response.text
    status = str(response.status_code)
    key = status if status in op["responses"] else f"{status[0]}XX"
    assert key in op["responses"], f"{op['operationId']} answered an undocumented {status}: {response.text[:200]}"
    if response.status_code >= 400:
        body = response.json()
        assert not list(ERROR.iter_errors(body)), body
        assert body["code"] in op["x-error-codes"][key], (status, body)


@pytest.mark.parametrize("operation_id", list(OPERATIONS))
def test_hostile_requests_get_documented_answers(target: Target, operation_id: str) -> None:
    """Every hostile request of the operation gets a documented status and code, on a connection that stays up."""
    method, path, op = OPERATIONS[operation_id]
    with httpx.Client(base_url=target.server.base_url, timeout=30) as http:

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
        )
        @given(
            url=_path(path, target.ids),
            query=_query(),
            token=st.sampled_from(target.tokens),
            second_token=st.none() | st.sampled_from(target.tokens),
            content_type=st.sampled_from(CONTENT_TYPES),
            body=_bodies(op),
            idempotency_key=st.none() | st.text(alphabet=ASCII, max_size=300),
        )
        def send(
            url: str,
            query: list[tuple[str, str]],
            token: str | None,
            second_token: str | None,
            content_type: str | None,
            body: bytes,
            idempotency_key: str | None,
        ) -> None:
            tokens = [sent for sent in (token, second_token) if sent is not None]
            headers = [("Authorization", f"Bearer {sent}") for sent in tokens]
            if content_type is not None:
                headers.append(("Content-Type", content_type))
            if idempotency_key is not None:
                headers.append(("Idempotency-Key", idempotency_key))
            response = http.request(method, url, params=tuple(query), content=body, headers=headers)
            _check(op, response)
            if len(tokens) > 1:
                assert response.status_code == 401, response.text

        send()
    assert target.server.process is not None and target.server.process.poll() is None


RAW_SEGMENTS = ["..", ".", "%2e%2e", "%2E", ".%2e", "%2F", "..%2F..", "%2e%2e%2F%2e%2e", "%252F", "%", "%zz"]


def _raw_path(path: str, ids: dict[str, list[str]]) -> st.SearchStrategy[tuple[str, bool]]:
    """`path` with every id a real one or a hostile raw segment (dot segments, %2F, ids joined by %2F), sent as is;
    and whether every id is a real one."""
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    real = {name: st.sampled_from(ids[name]).map(lambda value: (value, True)) for name in names}
    joined = st.lists(st.sampled_from([value for values in ids.values() for value in values]), min_size=2, max_size=3)
    hostile = st.sampled_from(RAW_SEGMENTS) | joined.map("%2F".join)
    values = st.fixed_dictionaries({name: real[name] | hostile.map(lambda value: (value, False)) for name in names})
    return values.map(
        lambda chosen: (
            path.format(**{name: value for name, (value, _) in chosen.items()}),
            all(is_real for _, is_real in chosen.values()),
        )
    )


@pytest.mark.parametrize("operation_id", list(OPERATIONS))
def test_hostile_path_segments_reach_no_resource(target: Target, operation_id: str) -> None:
    """Raw dot segments and %2F inside ids get a documented answer of this operation, and never a success."""
    method, path, op = OPERATIONS[operation_id]
    connection = http.client.HTTPConnection("127.0.0.1", target.server.port, timeout=30)
    headers = {"Authorization": f"Bearer {target.tokens[0]}", "Content-Type": "application/json"}

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None)
    @given(url=_raw_path(path, target.ids))
    def send(url: tuple[str, bool]) -> None:
        raw, every_id_is_real = url
        connection.request(method, raw, body=b"{}" if "requestBody" in op else None, headers=headers)
        answer = connection.getresponse()
        response = httpx.Response(answer.status, headers=answer.getheaders(), content=answer.read())
        _check(op, response)
        assert every_id_is_real or response.status_code >= 400, (raw, response.status_code)

    try:
        send()
    finally:
        connection.close()
