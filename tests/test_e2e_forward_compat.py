"""An installed client survives a newer API: every read operation, in all four call styles, against real
sandbox answers rewritten as a later API version would send them.

`LaterAPI` forwards each request to the sandbox over a real socket, then rewrites the answer, guided by the
response schema in openapi.yaml: every object gains a field this client has never heard of, and every enum
value becomes one it does not know. Other rewrites replace the status or the whole shape of the body.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx
import pytest

from cadenya import AuthenticatedClient
from cadenya.api.account import get_account
from cadenya.api.api_keys import create_api_key, get_api_key, list_api_key_workspaces, list_api_keys
from cadenya.api.service_accounts import (
    create_service_account,
    create_service_account_credential,
    get_service_account,
    get_service_account_credential,
    list_service_account_credentials,
    list_service_accounts,
)
from cadenya.api.workspaces import create_workspace, get_workspace, list_workspaces
from cadenya.errors import UnexpectedStatus
from cadenya.models import (
    CreateAPIKeyRequest,
    CreateServiceAccountCredentialRequest,
    CreateServiceAccountRequest,
    CreateWorkspaceRequest,
    Error,
)
from cadenya.sandbox import SandboxServer
from cadenya.types import Response, UnrecognizedStr
from tests.helpers import load_spec, operation_module, operations, resolve, with_parsed_datetimes

STYLES = ("sync", "sync_detailed", "asyncio", "asyncio_detailed")
ADDED_FIELD = "addedLater"
ADDED_VALUE = {"nested": ["a value", 1, True], "more": {"deep": None}}
SPEC = load_spec()
Rewrite = Callable[[int, Any, dict[str, Any]], tuple[int, Any]]


def later(value: Any, schema: dict[str, Any]) -> Any:
    """`value` as a later API would send it: a new field on every object, a new value for every enum."""
    schema = resolve(SPEC, schema)
    if "oneOf" in schema:  # getAccount with an API key answers the first shape, Account
        return later(value, schema["oneOf"][0])
    if "allOf" in schema:
        merged: dict[str, Any] = {"type": "object", "properties": {}}
        for part in schema["allOf"]:
            merged["properties"].update(resolve(SPEC, part).get("properties", {}))
        return later(value, merged)
    if "enum" in schema and isinstance(value, str):
        return f"{value}_LATER"
    if isinstance(value, dict) and "properties" in schema:
        properties = schema["properties"]
        rewritten = {key: later(item, properties[key]) if key in properties else item for key, item in value.items()}
        return {**rewritten, ADDED_FIELD: ADDED_VALUE}
    if isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        return {key: later(item, schema["additionalProperties"]) for key, item in value.items()}
    if isinstance(value, list):
        return [later(item, schema.get("items", {})) for item in value]
    return value


def _response_schema(operation_id: str, status: int) -> dict[str, Any]:
    op = next(op for _, _, op in operations(SPEC) if op["operationId"] == operation_id)
    key = str(status) if str(status) in op["responses"] else f"{str(status)[0]}XX"
    schema: dict[str, Any] = resolve(SPEC, op["responses"][key])["content"]["application/json"]["schema"]
    return schema


def newer_fields_and_enums(operation_id: str) -> Rewrite:
    def rewrite(status: int, body: Any, _: dict[str, Any]) -> tuple[int, Any]:
        return status, later(body, _response_schema(operation_id, status))

    return rewrite


def newer_status(status: int, body: Any, _: dict[str, Any]) -> tuple[int, Any]:
    """A success status the spec does not document (203), same body."""
    return (203 if status == 200 else status), body


def newer_variant(status: int, body: Any, _: dict[str, Any]) -> tuple[int, Any]:
    """A third getAccount shape, matching neither Account nor SessionAccount."""
    return status, {"kind": "organization", "organizationId": "org_01JD8Z6X2Q4W9K3M7N5P1R8T6V", "seats": 40}


class LaterAPI(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The real sandbox behind a rewrite of every JSON answer; records what the client was sent."""

    def __init__(self, rewrite: Rewrite) -> None:
        self.rewrite = rewrite
        self.sent: list[tuple[int, Any]] = []
        self._sync = httpx.HTTPTransport()
        self._async = httpx.AsyncHTTPTransport()

    def _rewritten(self, response: httpx.Response) -> httpx.Response:
        status, body = self.rewrite(response.status_code, json.loads(response.content), dict(response.headers))
        self.sent.append((status, body))
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}
        return httpx.Response(status, headers=headers, json=body)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._sync.handle_request(request)
        response.read()
        return self._rewritten(response)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._async.handle_async_request(request)
        await response.aread()
        return self._rewritten(response)

    def close(self) -> None:
        self._sync.close()

    async def aclose(self) -> None:
        await self._async.aclose()


def _client(base_url: str, token: str, transport: LaterAPI) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=base_url, token=token, httpx_args={"transport": transport})


def call(
    style: str, module: ModuleType, args: tuple[Any, ...], kwargs: dict[str, Any], client: AuthenticatedClient
) -> Any:
    """The operation in one call style; never raises unless the client does."""
    function = getattr(module, style)
    if style.startswith("asyncio"):

        async def run() -> Any:
            async with client:
                return await function(*args, client=client, **kwargs)

        return asyncio.run(run())
    with client:
        return function(*args, client=client, **kwargs)


def parsed_of(style: str, result: Any) -> Any:
    if style.endswith("_detailed"):
        assert isinstance(result, Response)
        return result.parsed
    return result


@dataclass(frozen=True)
class Reads:
    """A fresh account's token and, for each read operation, the arguments of a call that finds something."""

    token: str
    calls: dict[str, tuple[tuple[Any, ...], dict[str, Any]]]


@pytest.fixture(scope="module")
def reads(sandbox: SandboxServer) -> Reads:
    """For each read operation, the arguments of a call that finds something, in a fresh account."""
    account = sandbox.new_account("Later API")
    org = account["accountId"]
    with AuthenticatedClient(base_url=sandbox.base_url, token=account["apiKey"]) as api:
        workspace = create_workspace.sync(client=api, body=CreateWorkspaceRequest(name="Production"))
        assert not isinstance(workspace, Error) and workspace is not None
        key = create_api_key.sync(
            client=api, body=CreateAPIKeyRequest(name="granted", workspace_ids=[workspace.metadata.id])
        )
        assert not isinstance(key, Error) and key is not None
        robot = create_service_account.sync(org, client=api, body=CreateServiceAccountRequest(name="robot"))
        assert not isinstance(robot, Error) and robot is not None
        credential = create_service_account_credential.sync(
            org, robot.id, client=api, body=CreateServiceAccountCredentialRequest(name="job")
        )
        assert not isinstance(credential, Error) and credential is not None
    expand: dict[str, Any] = {"expand": ["permissions"]}
    calls: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
        "getAccount": ((), {}),
        "listWorkspaces": ((), {}),
        "getWorkspace": ((workspace.metadata.id,), {}),
        "listApiKeys": ((), {"include_revoked": True}),
        "getApiKey": ((key.metadata.id,), {}),
        "listApiKeyWorkspaces": ((key.metadata.id,), {}),
        "listServiceAccounts": ((org,), expand),
        "getServiceAccount": ((org, robot.id), expand),
        "listServiceAccountCredentials": ((org, robot.id), expand),
        "getServiceAccountCredential": ((org, robot.id, credential.id), expand),
    }
    return Reads(account["apiKey"], calls)


READ_OPERATIONS = [op["operationId"] for method, _, op in operations(SPEC) if method == "get"]
MODULES = {
    "getAccount": get_account,
    "listWorkspaces": list_workspaces,
    "getWorkspace": get_workspace,
    "listApiKeys": list_api_keys,
    "getApiKey": get_api_key,
    "listApiKeyWorkspaces": list_api_key_workspaces,
    "listServiceAccounts": list_service_accounts,
    "getServiceAccount": get_service_account,
    "listServiceAccountCredentials": list_service_account_credentials,
    "getServiceAccountCredential": get_service_account_credential,
}


def test_every_read_operation_is_covered() -> None:
    """The cases below take every GET operation of the spec."""
    assert sorted(MODULES) == sorted(READ_OPERATIONS)
    for operation_id, module in MODULES.items():
        op = next(op for _, _, op in operations(SPEC) if op["operationId"] == operation_id)
        assert operation_module(op) is module


def _cases() -> list[Any]:
    return [pytest.param(op, style, id=f"{op}-{style}") for op in sorted(MODULES) for style in STYLES]


def _run(
    sandbox: SandboxServer, reads: Reads, operation_id: str, style: str, rewrite: Rewrite, token: str = ""
) -> tuple[Any, LaterAPI]:
    args, kwargs = reads.calls[operation_id]
    transport = LaterAPI(rewrite)
    client = _client(sandbox.base_url, token or reads.token, transport)
    return call(style, MODULES[operation_id], args, kwargs, client), transport


@pytest.mark.parametrize(("operation_id", "style"), _cases())
def test_new_fields_and_enum_values_are_kept_and_written_back(
    sandbox: SandboxServer, reads: Reads, operation_id: str, style: str
) -> None:
    """Unknown fields land in additional_properties, unknown enum values stay strings; to_dict gives the body back."""
    result, transport = _run(sandbox, reads, operation_id, style, newer_fields_and_enums(operation_id))
    ((status, body),) = transport.sent
    assert status == 200 and ADDED_FIELD in body
    model = parsed_of(style, result)
    assert model is not None and not isinstance(model, Error)
    assert getattr(model, "additional_properties", {})[ADDED_FIELD] == ADDED_VALUE
    assert with_parsed_datetimes(model.to_dict()) == with_parsed_datetimes(body)


@pytest.mark.parametrize(("operation_id", "style"), _cases())
def test_an_error_with_a_new_code_is_still_an_error(
    sandbox: SandboxServer, reads: Reads, operation_id: str, style: str
) -> None:
    """A 401 whose code and fields a later API added parses as Error, the unknown code kept as its string."""
    bad_token = "cad_key_" + "0" * 36
    result, transport = _run(sandbox, reads, operation_id, style, newer_fields_and_enums(operation_id), bad_token)
    error = parsed_of(style, result)
    assert isinstance(error, Error)
    assert error.code == "unauthenticated_LATER"
    assert error.additional_properties[ADDED_FIELD] == ADDED_VALUE
    assert error.to_dict() == transport.sent[0][1]


def _unexpected(
    sandbox: SandboxServer, reads: Reads, operation_id: str, style: str, rewrite: Rewrite
) -> tuple[Any, Any]:
    """(the answer of a detailed style or the UnexpectedStatus a plain one raises, the body that was sent)."""
    args, kwargs = reads.calls[operation_id]
    transport = LaterAPI(rewrite)
    client = _client(sandbox.base_url, reads.token, transport)
    if style.endswith("_detailed"):
        result = call(style, MODULES[operation_id], args, kwargs, client)
        assert result.parsed is None
    else:
        with pytest.raises(UnexpectedStatus) as raised:
            call(style, MODULES[operation_id], args, kwargs, client)
        result = raised.value
    ((_, body),) = transport.sent
    return result, body


@pytest.mark.parametrize(("operation_id", "style"), _cases())
def test_a_new_success_status_keeps_the_status_and_the_body(
    sandbox: SandboxServer, reads: Reads, operation_id: str, style: str
) -> None:
    """A status the spec does not document: parsed None in the detailed styles, UnexpectedStatus in the plain
    ones; the status and the body are there either way."""
    result, sent = _unexpected(sandbox, reads, operation_id, style, newer_status)
    assert result.status_code == 203
    assert json.loads(result.content) == sent


@pytest.mark.parametrize("style", STYLES)
def test_a_new_one_of_variant_keeps_the_body(sandbox: SandboxServer, reads: Reads, style: str) -> None:
    """getAccount answering a shape that is neither Account nor SessionAccount: parsed None in the detailed
    styles, UnexpectedStatus in the plain ones; the body is kept."""
    result, sent = _unexpected(sandbox, reads, "getAccount", style, newer_variant)
    assert result.status_code == 200
    assert json.loads(result.content) == sent


def test_an_unknown_enum_value_is_an_unrecognized_str(sandbox: SandboxServer, reads: Reads) -> None:
    """The type a checker sees for a value a later API added: UnrecognizedStr, a str."""
    result, _ = _run(sandbox, reads, "getWorkspace", "sync", newer_fields_and_enums("getWorkspace"))
    assert result.status == "STATUS_ENABLED_LATER"
    assert isinstance(result.status, str)
    assert UnrecognizedStr(result.status) == result.status
