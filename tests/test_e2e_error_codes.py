"""Error codes, both ways, against the real sandbox: each code the spec documents for an operation and
status is answered by it, and every answer carries only documented codes and declared headers.

The sandbox itself refuses to send an error code its spec does not document for the operation and status
(it answers 500 and logs the violation instead); `test_sandbox.py` proves that guard, and the session's
sandbox fails the run if its log holds such a violation. Together: documented == produced.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest

from cadenya.sandbox import SandboxServer
from tests.helpers import load_spec, operations, resolve
from tests.sandbox_support import assert_no_spec_violations

HTTP_OWN_HEADERS = frozenset({"content-type", "content-length", "date", "server", "connection", "transfer-encoding"})
NO_SUCH = {
    "workspaceId": "ws_01JD8ZZZZZZZZZZZZZZZZZZZZZ",
    "apiKeyId": "apikey_01JD8ZZZZZZZZZZZZZZZZZZZZZ",
    "organization_id": "acct_01JD8ZZZZZZZZZZZZZZZZZZZZZ",
    "service_account_id": "NoSuchServiceAccount_00000",
    "credential_id": "NoSuchCredential_000000000",
}


@dataclass(frozen=True)
class Request:
    """One HTTP request, as a scenario builds it from a valid one."""

    method: str
    path: str
    token: str
    body: Any = None
    content: bytes | None = None
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    stall: bool = False
    """Send the headers and half the body, then wait for the answer without sending the rest."""


def stalled_exchange(
    base_url: str, method: str, path: str, headers: Mapping[str, str], body: bytes, timeout: float = 30.0
) -> httpx.Response:
    """Send a request whose body stops halfway, over a raw socket, and read the answer until the server closes."""
    url = httpx.URL(base_url)
    head = [f"{method} {path} HTTP/1.1", f"Host: {url.host}:{url.port}", f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((url.host, url.port or 80), timeout=timeout) as connection:
        connection.sendall("\r\n".join([*head, "", ""]).encode() + body[: len(body) // 2])
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    status_line, _, rest = received.partition(b"\r\n")
    header_block, _, content = rest.partition(b"\r\n\r\n")
    answer_headers = [
        (name.strip(), value.strip())
        for name, _, value in (line.partition(":") for line in header_block.decode("latin-1").split("\r\n"))
    ]
    return httpx.Response(int(status_line.split()[1]), headers=answer_headers, content=content)


@dataclass
class World:
    """An account with one of everything the scenarios need, made through the API."""

    http: httpx.Client
    system_token: str
    account_id: str
    limited_token: str = ""
    ids: dict[str, str] = field(default_factory=dict)

    def call(self, request: Request) -> httpx.Response:
        headers = {"Authorization": f"Bearer {request.token}", **request.headers}
        if request.stall:
            body = json.dumps(request.body).encode()
            headers["Content-Type"] = "application/json"
            return stalled_exchange(str(self.http.base_url), request.method, request.path, headers, body)
        if request.body is not None:
            return self.http.request(
                request.method, request.path, json=request.body, params=request.params, headers=headers
            )
        return self.http.request(
            request.method, request.path, content=request.content, params=request.params, headers=headers
        )

    def create(self, path: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        answer = self.call(Request("POST", path, token or self.system_token, body=body))
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created


SPEC = load_spec()
OPERATIONS = {op["operationId"]: (method.upper(), path, op) for method, path, op in operations(SPEC)}
MINIMAL_BODIES = {"createApiKey": {"name": "scenario"}, "createWorkspace": {"name": "scenario"}}


def _has_parameter(operation_id: str, name: str) -> bool:
    _, path, op = OPERATIONS[operation_id]
    item = SPEC["paths"][path]
    every = [resolve(SPEC, p) for p in [*item.get("parameters", []), *op.get("parameters", [])]]
    return any(p["name"] == name for p in every)


def valid_request(world: World, operation_id: str) -> Request:
    """A request of the operation that reaches its handler: real ids, a body that fits."""
    method, path, op = OPERATIONS[operation_id]
    values = {"organization_id": world.account_id, **world.ids}
    body = None
    if "requestBody" in op:
        body = MINIMAL_BODIES.get(operation_id, {"name": "scenario"})
    return Request(method, path.format(**values), world.system_token, body=body)


def _swap_last_id(world: World, operation_id: str) -> Request:
    _, path, _ = OPERATIONS[operation_id]
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    values = {"organization_id": world.account_id, **world.ids, names[-1]: NO_SUCH[names[-1]]}
    return replace(valid_request(world, operation_id), path=path.format(**values))


def _fault(fault: str) -> Callable[[World, str], Request]:
    def build(world: World, operation_id: str) -> Request:
        request = valid_request(world, operation_id)
        return replace(request, headers={"X-Sandbox-Fault": f"{fault}; id={uuid.uuid4().hex}"})

    return build


def _unauthenticated(world: World, operation_id: str) -> Request:
    return replace(valid_request(world, operation_id), token="cad_key_" + "0" * 36)


def _not_found(world: World, operation_id: str) -> Request:
    if operation_id == "createApiKey":
        return replace(valid_request(world, operation_id), body={"name": "x", "workspaceIds": [NO_SUCH["workspaceId"]]})
    return _swap_last_id(world, operation_id)


def _bad_request(world: World, operation_id: str) -> Request:
    request = valid_request(world, operation_id)
    if _has_parameter(operation_id, "pageToken"):
        return replace(request, params={"pageToken": "not-a-token-of-this-list"})
    if _has_parameter(operation_id, "page_token"):
        return replace(request, params={"page_token": "not-a-token-of-this-list"})
    if request.method == "POST":
        return replace(request, headers={"Idempotency-Key": "k" * 256})
    if request.body is not None:
        return replace(request, body=None, content=b'{"name": ', headers={"Content-Type": "application/json"})
    return replace(request, params={"expand[]": "everything"})


def _unprocessable(world: World, operation_id: str) -> Request:
    return replace(valid_request(world, operation_id), body={"notAField": True})


def _idempotency_key_reused(world: World, operation_id: str) -> Request:
    key = f"idem_{uuid.uuid4().hex}"
    first = Request("POST", "/v1/workspaces", world.system_token, body={"name": "first use"})
    assert world.call(replace(first, headers={"Idempotency-Key": key})).status_code == 201
    return replace(valid_request(world, operation_id), headers={"Idempotency-Key": key})


def _as_limited(operation_id: str, *, workspace: str) -> Callable[[World, str], Request]:
    """The limited key (granted only `ws`) acting on a workspace it was not granted."""

    def build(world: World, _: str) -> Request:
        request = valid_request(world, operation_id)
        if operation_id == "createApiKey":
            return replace(
                request, token=world.limited_token, body={"name": "x", "workspaceIds": [world.ids[workspace]]}
            )
        path = request.path.replace(world.ids["workspaceId"], world.ids[workspace])
        return replace(request, token=world.limited_token, path=path)

    return build


def _on_workspace(workspace: str) -> Callable[[World, str], Request]:
    """The system key acting on another workspace of the account (an archived one, say)."""

    def build(world: World, operation_id: str) -> Request:
        request = valid_request(world, operation_id)
        if operation_id == "createApiKey":
            return replace(request, body={"name": "x", "workspaceIds": [world.ids[workspace]]})
        return replace(request, path=request.path.replace(world.ids["workspaceId"], world.ids[workspace]))

    return build


def _on_key(key: str) -> Callable[[World, str], Request]:
    def build(world: World, operation_id: str) -> Request:
        request = valid_request(world, operation_id)
        return replace(request, path=request.path.replace(world.ids["apiKeyId"], world.ids[key]))

    return build


def _to_a_key_another_key_holds(world: World, operation_id: str) -> Request:
    """The system key granting `other_workspace` to a key the limited key created, so holds the token of."""
    request = _on_key("held_key")(world, operation_id)
    return replace(request, path=request.path.replace(world.ids["workspaceId"], world.ids["other_workspace"]))


def _as_non_administrator(world: World, operation_id: str) -> Request:
    """The limited key doing what only the administrator may: account settings, service accounts, the system key."""
    request = _on_key("system_key")(world, operation_id) if _has_parameter(operation_id, "apiKeyId") else None
    return replace(request or valid_request(world, operation_id), token=world.limited_token)


def _on_a_wider_key(world: World, operation_id: str) -> Request:
    """The limited key acting on a key that reaches a workspace the limited key does not."""
    return replace(_on_key("wide_key")(world, operation_id), token=world.limited_token)


def _too_large(world: World, operation_id: str) -> Request:
    return replace(valid_request(world, operation_id), body={"name": "x" * (1 << 20)})


def _not_json(world: World, operation_id: str) -> Request:
    request = valid_request(world, operation_id)
    content = json.dumps(request.body).encode()
    return replace(request, body=None, content=content, headers={"Content-Type": "text/plain"})


def _slow_body(world: World, operation_id: str) -> Request:
    fault = f"body-timeout=0.2; id={uuid.uuid4().hex}"
    return replace(valid_request(world, operation_id), stall=True, headers={"X-Sandbox-Fault": fault})


def _limit_reached(world: World, operation_id: str) -> Request:
    return replace(valid_request(world, operation_id), token=world.ids["full_account_token"])


Scenario = Callable[[World, str], Request]
# Codes every operation documents the same way, by status.
GENERIC: dict[tuple[str, str], Scenario] = {
    ("401", "unauthenticated"): _unauthenticated,
    ("429", "rate_limited"): _fault("status=429; retry-after=0"),
    ("5XX", "internal"): _fault("status=500"),
    ("5XX", "unavailable"): _fault("status=503"),
    ("404", "not_found"): _not_found,
    ("400", "invalid_argument"): _bad_request,
    ("422", "invalid_argument"): _unprocessable,
    ("409", "idempotency_key_reused"): _idempotency_key_reused,
    ("403", "account_admin_required"): _as_non_administrator,
    ("408", "request_timeout"): _slow_body,
    ("413", "payload_too_large"): _too_large,
    ("415", "unsupported_media_type"): _not_json,
}
# Codes that depend on the state of one resource: (operation, status, code).
SPECIFIC: dict[tuple[str, str, str], Scenario] = {
    **{
        (op, "403", "permission_denied"): _as_limited(op, workspace="other_workspace")
        for op in ("getWorkspace", "updateWorkspace", "createApiKey", "grantApiKeyWorkspace", "revokeApiKeyWorkspace")
    },
    **{
        (op, "403", "permission_denied"): _on_a_wider_key
        for op in ("updateApiKey", "revokeApiKey", "rotateApiKey", "revealApiKey", "listApiKeyWorkspaces")
    },
    **{
        (op, "403", "workspace_archived"): _on_workspace("archived_workspace")
        for op in ("getWorkspace", "updateWorkspace", "createApiKey", "grantApiKeyWorkspace")
    },
    **{
        (op, "409", "api_key_revoked"): _on_key("revoked_key")
        for op in ("updateApiKey", "rotateApiKey", "revealApiKey", "grantApiKeyWorkspace")
    },
    ("revealApiKey", "409", "reveal_unavailable"): _on_key("apiKeyId"),
    ("grantApiKeyWorkspace", "409", "api_key_token_held"): _to_a_key_another_key_holds,
    ("revokeApiKey", "403", "system_api_key_not_revocable"): _on_key("system_key"),
    ("createApiKey", "409", "api_key_limit_reached"): _limit_reached,
}


def documented() -> list[tuple[str, str, str]]:
    """Every (operation, status, code) the spec documents."""
    return [
        (op["operationId"], status, code)
        for _, _, op in operations(SPEC)
        for status, codes in op["x-error-codes"].items()
        for code in codes
    ]


def scenario_for(operation_id: str, status: str, code: str) -> Scenario | None:
    return SPECIFIC.get((operation_id, status, code)) or GENERIC.get((status, code))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    running = SandboxServer(tmp_path_factory.mktemp("codes") / "codes.db", extra_args=("--faults",)).start()
    yield running
    running.stop()
    assert_no_spec_violations(running)


@pytest.fixture(scope="module")
def world(server: SandboxServer) -> Iterator[World]:
    account = server.new_account("Error codes")
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        world = World(http, account["apiKey"], account["accountId"])
        system = world.call(Request("GET", "/v1/account", world.system_token)).json()
        world.ids["system_key"] = system["info"]["globalApiKey"]["metadata"]["id"]
        for name in ("workspaceId", "other_workspace", "archived_workspace"):
            world.ids[name] = world.create("/v1/workspaces", {"name": name})["metadata"]["id"]
        archive = Request(
            "PATCH",
            f"/v1/workspaces/{world.ids['archived_workspace']}",
            world.system_token,
            body={"status": "STATUS_ARCHIVED"},
        )
        assert world.call(archive).status_code == 200
        limited = world.create("/v1/api-keys", {"name": "limited", "workspaceIds": [world.ids["workspaceId"]]})
        world.limited_token = limited["spec"]["token"]
        world.ids["held_key"] = world.create("/v1/api-keys", {"name": "held"}, world.limited_token)["metadata"]["id"]
        world.ids["apiKeyId"] = world.create("/v1/api-keys", {"name": "plain"})["metadata"]["id"]
        wide = {"name": "wide", "workspaceIds": [world.ids["workspaceId"], world.ids["other_workspace"]]}
        world.ids["wide_key"] = world.create("/v1/api-keys", wide)["metadata"]["id"]
        revoked = world.create("/v1/api-keys", {"name": "revoked", "revealable": True})["metadata"]["id"]
        assert world.call(Request("DELETE", f"/v1/api-keys/{revoked}", world.system_token)).status_code == 204
        world.ids["revoked_key"] = revoked
        organization = f"/organizations/{world.account_id}/service-accounts"
        world.ids["service_account_id"] = world.create(organization, {"name": "robot"})["id"]
        credential = world.create(f"{organization}/{world.ids['service_account_id']}/credentials", {"name": "job"})
        world.ids["credential_id"] = credential["id"]
        full = server.new_account("Full")
        full_world = World(http, full["apiKey"], full["accountId"])
        for index in range(49):  # the system key is the 50th active key
            full_world.create("/v1/api-keys", {"name": f"filler {index}"})
        world.ids["full_account_token"] = full["apiKey"]
        yield world


def test_every_documented_code_has_a_scenario() -> None:
    """The scenarios below cover every (operation, status, code) that openapi.yaml documents."""
    missing = [triple for triple in documented() if scenario_for(*triple) is None]
    assert not missing


def _declared_headers(operation_id: str, status: int) -> set[str]:
    _, _, op = OPERATIONS[operation_id]
    key = str(status) if str(status) in op["responses"] else f"{str(status)[0]}XX"
    return {name.lower() for name in resolve(SPEC, op["responses"][key]).get("headers", {})}


@pytest.mark.parametrize(("operation_id", "status", "code"), [pytest.param(*t, id="-".join(t)) for t in documented()])
def test_the_sandbox_answers_each_documented_code(world: World, operation_id: str, status: str, code: str) -> None:
    """The scenario gets exactly the documented status and code, with a request id and declared headers only."""
    scenario = scenario_for(operation_id, status, code)
    assert scenario is not None
    answer = world.call(scenario(world, operation_id))
    expected_status = {"internal": 500, "unavailable": 503}.get(code) if status == "5XX" else int(status)
    assert (answer.status_code, answer.json()["code"]) == (expected_status, code), answer.text
    assert answer.headers["x-request-id"].startswith("req_")
    undeclared = {name for name in answer.headers if name not in HTTP_OWN_HEADERS} - _declared_headers(
        operation_id, answer.status_code
    )
    assert not undeclared


def test_a_method_a_path_does_not_have_is_405_method_not_allowed(world: World) -> None:
    """Outside any operation: 405 with the Error body, an Allow header and a request id."""
    answer = world.call(Request("DELETE", "/v1/account", world.system_token))
    assert (answer.status_code, answer.json()["code"]) == (405, "method_not_allowed")
    assert "GET" in answer.headers["allow"]
    assert answer.headers["x-request-id"]
