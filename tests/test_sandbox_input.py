"""What the sandbox does with input outside the contract, sent byte for byte over HTTP on 127.0.0.1: paths as
sent (no client normalises them), numbers JSON cannot carry, strings that only Python's regex dialect accepts,
and repeated credentials. Each is refused with the spec's Error body and leaves the database as it was."""

from __future__ import annotations

import functools
import http.client
import json
import re
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from cadenya.sandbox._spec import Spec
from tests.helpers import HTTP_METHODS, load_spec, open_database, operations, resolve
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


@dataclass(frozen=True)
class PatternUse:
    """A spec `pattern` where a request carries it: the operation, and the way into the request to the value."""

    method: str
    path: str
    operation: dict[str, Any]
    place: tuple[str, ...]
    """("body", "labels", NAME) for a label's name, ("body", "permissions", ITEM), ("path", "workspaceId")…"""
    schema: dict[str, Any]
    defined_at: str

    @property
    def id(self) -> str:
        return f"{self.operation['operationId']}:{'/'.join(self.place)}"


NAME, ITEM, VALUE = "<name>", "<item>", "<value>"


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(map(_escape, parts))


def _patterns_in(
    node: dict[str, Any], pointer: str, place: tuple[str, ...], seen: frozenset[str] = frozenset()
) -> Iterator[tuple[tuple[str, ...], dict[str, Any], str]]:
    """Every schema with a `pattern` reachable from the schema `node`: where in the value, the schema, its pointer."""
    if "$ref" in node:
        if node["$ref"] not in seen:
            yield from _patterns_in(resolve(SPEC, node), node["$ref"], place, seen | {node["$ref"]})
        return
    if "pattern" in node:
        yield place, node, pointer
    children = [(f"properties/{name}", name, child) for name, child in node.get("properties", {}).items()]
    children += [(key, step, node[key]) for key, step in _CHILDREN.items() if isinstance(node.get(key), dict)]
    children += [
        (f"{key}/{i}", None, child) for key in ("allOf", "anyOf", "oneOf") for i, child in enumerate(node.get(key, []))
    ]
    for where, step, child in children:
        yield from _patterns_in(child, f"{pointer}/{where}", place if step is None else (*place, step), seen)


_CHILDREN = {"propertyNames": NAME, "items": ITEM, "additionalProperties": VALUE}


def _pattern_uses(section: str) -> Iterator[PatternUse]:
    """Every pattern of the requests of `section` ("paths", or "webhooks" for what the sandbox sends)."""
    for path, item in SPEC.get(section, {}).items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            operation = item[method]
            parameters = [
                (_pointer(section, path, "parameters", str(i)), p) for i, p in enumerate(item.get("parameters", []))
            ]
            parameters += [
                (_pointer(section, path, method, "parameters", str(i)), p)
                for i, p in enumerate(operation.get("parameters", []))
            ]
            for pointer, parameter in parameters:
                pointer = parameter.get("$ref", pointer)
                parameter = resolve(SPEC, parameter)
                place = (parameter["in"], parameter["name"])
                for found in _patterns_in(parameter["schema"], pointer + "/schema", place):
                    yield PatternUse(method, path, operation, *found)
            if "requestBody" in operation:
                body = resolve(SPEC, operation["requestBody"])["content"]["application/json"]["schema"]
                pointer = _pointer(section, path, method, "requestBody", "content", "application/json", "schema")
                for found in _patterns_in(body, pointer, ("body",)):
                    yield PatternUse(method, path, operation, *found)


def _response_header_patterns() -> Iterator[str]:
    """The pointers of the patterns in response headers: answers the sandbox sends, never receives."""
    for section in ("paths", "webhooks"):
        for _, _, operation in operations({"paths": SPEC.get(section, {})}):
            for response in operation["responses"].values():
                for header in resolve(SPEC, response).get("headers", {}).values():
                    for _, _, pointer in _patterns_in(
                        resolve(SPEC, header)["schema"], header.get("$ref", "") + "/schema", ()
                    ):
                        yield pointer


def _every_pattern(node: Any, pointer: str = "#") -> Iterator[str]:
    """The pointer of every schema in the document that has a `pattern`."""
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield pointer
        for key, child in node.items():
            yield from _every_pattern(child, f"{pointer}/{_escape(key)}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _every_pattern(child, f"{pointer}/{index}")


SPEC = load_spec()
REQUEST_PATTERNS = list(_pattern_uses("paths"))


def test_every_pattern_of_the_spec_is_tested_where_a_request_carries_it() -> None:
    """Each `pattern` in openapi.yaml is in a request (and in REQUEST_PATTERNS), or in what the sandbox only sends."""
    received = {use.defined_at for use in REQUEST_PATTERNS}
    sent = {use.defined_at for use in _pattern_uses("webhooks")} | set(_response_header_patterns())
    assert received
    assert set(_every_pattern(SPEC)) == received | sent


def _nest(steps: Sequence[str], value: str) -> Any:
    """The smallest JSON value that holds `value` at `steps` (a property, a member's name, an item…)."""
    if not steps:
        return value
    step, *rest = steps
    if step == NAME:
        return {value: "v"}
    if step == ITEM:
        return [_nest(rest, value)]
    return {"k" if step == VALUE else step: _nest(rest, value)}


def _send_pattern_use(
    sandbox: SandboxServer, account: dict[str, str], use: PatternUse, ids: dict[str, str], value: str
) -> tuple[int, Any]:
    """The request of `use` with `value` where the pattern applies and ids of existing resources elsewhere."""
    where, *steps = use.place
    path_values, query, body = dict(ids), "", None
    if where == "body":
        schema = resolve(SPEC, use.operation["requestBody"]["content"]["application/json"]["schema"])
        body = json.dumps({**dict.fromkeys(schema.get("required", []), "required"), **_nest(steps, value)}).encode()
    elif where == "path":
        path_values[steps[0]] = value
    elif where == "query":
        query = "?" + urllib.parse.urlencode({steps[0]: value})
    else:
        raise AssertionError(f"no way to send a {where} parameter with a trailing newline")
    path = use.path.format(**{name: urllib.parse.quote(text, safe="") for name, text in path_values.items()})
    return _raw_request(sandbox, use.method.upper(), path + query, _bearer(account), body)


def _refusal(use: PatternUse) -> tuple[int, str]:
    """How the operation refuses a value that does not fit where `use` puts it."""
    statuses = use.operation["responses"]
    if use.place[0] == "path" and "404" in statuses:
        return 404, "not_found"
    return (422 if use.place[0] == "body" and "422" in statuses else 400), "invalid_argument"


def _existing_ids(sandbox: SandboxServer, account: dict[str, str]) -> dict[str, str]:
    """One resource of each kind in the account, by the path parameter that names it."""
    service_accounts = f"/organizations/{account['accountId']}/service-accounts"
    robot = _create(sandbox, account, service_accounts, {"name": "robot"})["id"]
    return {
        "organization_id": account["accountId"],
        "workspaceId": _create(sandbox, account, "/v1/workspaces", {"name": "w"})["metadata"]["id"],
        "apiKeyId": _create(sandbox, account, "/v1/api-keys", {"name": "k"})["metadata"]["id"],
        "service_account_id": robot,
        "credential_id": _create(sandbox, account, f"{service_accounts}/{robot}/credentials", {"name": "c"})["id"],
    }


def _matching(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    """ASCII strings that fit `schema`, its pattern included."""
    fits = Draft202012Validator(schema).is_valid
    return st.from_regex(schema["pattern"], fullmatch=True, alphabet=st.characters(codec="ascii")).filter(fits)


@pytest.mark.parametrize("use", [pytest.param(use, id=use.id) for use in REQUEST_PATTERNS])
def test_a_patterned_value_with_a_trailing_newline_is_refused(
    sandbox: SandboxServer, account: dict[str, str], use: PatternUse
) -> None:
    """A value its pattern matches, plus "\\n", is refused and stores nothing; the value itself is accepted."""
    ids = _existing_ids(sandbox, account)

    @settings(
        max_examples=8,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
    )
    @given(value=_matching(use.schema))
    def send(value: str) -> None:
        assert re.search(use.schema["pattern"], value + "\n"), "Python's own re.search accepts it"
        before = _snapshot(sandbox.db)
        status, body = _send_pattern_use(sandbox, account, use, ids, value + "\n")
        assert (status, body["code"]) == _refusal(use), body
        assert _snapshot(sandbox.db) == before
        status, body = _send_pattern_use(sandbox, account, use, ids, value)
        assert status < 300, body

    send()


@functools.cache
def _sandbox_spec() -> Spec:
    return Spec()


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        pytest.param("^[0-9]+$", "12", True, id="digits"),
        pytest.param("^[0-9]+$", "12\n", False, id="dollar-before-a-final-newline"),
        pytest.param("^a$|^b$", "b\n", False, id="dollar-in-an-alternative"),
        pytest.param(r"^\d+$", "12", True, id="ascii-digits"),
        pytest.param(r"^\d+$", "١٢", False, id="arabic-indic-digits"),
        pytest.param(r"^\w+$", "é", False, id="non-ascii-word-character"),
        pytest.param("^a.b$", "a\rb", False, id="dot-and-carriage-return"),
        pytest.param("^a.b$", "a\u2028b", False, id="dot-and-line-separator"),
        pytest.param("^a.b$", "a-b", True, id="dot"),
        pytest.param("^[$.]+$", "$.", True, id="dollar-and-dot-in-a-class"),
        pytest.param(r"^\$\.$", "$.", True, id="escaped-dollar-and-dot"),
        pytest.param(r"^[\]$]+$", "]$", True, id="escaped-bracket-in-a-class"),
    ],
)
def test_a_pattern_matches_as_ecma_262_defines_it(pattern: str, value: str, matches: bool) -> None:
    """The sandbox's validators read `pattern` as JSON Schema does (ECMA-262), not as Python's re would."""
    validator = _sandbox_spec().validator({"type": "string", "pattern": pattern})
    assert validator.is_valid(value) is matches
