"""Every call style of representative operations, against httpx.MockTransport."""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import cadenya
from cadenya.errors import UnexpectedStatus
from cadenya.models import (
    Account,
    APIKey,
    APIKeyWithToken,
    CreateAPIKeyRequest,
    Error,
    ListAPIKeysResponse,
    ListServiceAccountsResponse,
    SessionAccount,
    UpdateServiceAccountRequest,
)
from cadenya.types import Response
from tests.helpers import TOKEN, client_for, load_spec, operation_module, operations, with_parsed_datetimes

STYLES = ["sync", "sync_detailed", "asyncio", "asyncio_detailed"]
ORGANIZATION = "acct_01JD7Z3M5W8Q2R4T6Y8U0I2O4P"

# operationId: (arguments, model of the success answer)
REPRESENTATIVE: dict[str, tuple[dict[str, Any], type[Any]]] = {
    "getAccount": ({}, Account),
    "createApiKey": ({"body": CreateAPIKeyRequest(name="ci")}, APIKeyWithToken),
    "listApiKeys": ({"include_revoked": True}, ListAPIKeysResponse),
    "getApiKey": ({"api_key_id": "apikey_01JD7Z3M5W8Q2R4T6Y8U0I2O4P"}, APIKey),
    "rotateApiKey": ({"api_key_id": "apikey_01JD7Z3M5W8Q2R4T6Y8U0I2O4P"}, APIKeyWithToken),
    "listServiceAccounts": ({"organization_id": ORGANIZATION}, ListServiceAccountsResponse),
    "updateServiceAccount": (
        {
            "organization_id": ORGANIZATION,
            "service_account_id": "V1StGXR8_Z5jdHi6B-myT0123a",
            "body": UpdateServiceAccountRequest(name="renamed"),
        },
        type(None),
    ),
}


def _operation(operation_id: str) -> dict[str, Any]:
    return next(op for _, _, op in operations(load_spec()) if op["operationId"] == operation_id)


def _success(operation_id: str) -> tuple[int, Any]:
    for status, response in _operation(operation_id)["responses"].items():
        if status.startswith("2"):
            content = response["content"]["application/json"]
            example = content["example"] if "example" in content else next(iter(content["examples"].values()))["value"]
            return int(status), example
    raise AssertionError(operation_id)


def invoke(function: Callable[..., Any], style: str, **arguments: Any) -> Any:
    """Run one call style to completion: the asyncio styles in a fresh event loop."""
    if style.startswith("asyncio"):
        return asyncio.run(function(**arguments))
    return function(**arguments)


def call(operation_id: str, style: str, handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> Any:
    """Call one operation in one style with its representative arguments; answer every request with `handler`."""
    function = getattr(operation_module(_operation(operation_id)), style)
    # These tests are about parsing; retries (of 409, 429) are tested in test_lib_send.py.
    client = client_for(handler, **{"max_retries": 0, **options})
    return invoke(function, style, client=client, **REPRESENTATIVE[operation_id][0])


def parsed(style: str, result: Any) -> Any:
    return result.parsed if style.endswith("_detailed") else result


def answer(status: int, body: Any = None, **headers: str) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, json=body, headers=headers)


def recorder(
    status: int = 200, body: Any = None
) -> tuple[list[httpx.Request], Callable[[httpx.Request], httpx.Response]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body if body is not None else {"items": []})

    return seen, handler


def _success_cases() -> list[Any]:
    return [
        pytest.param(operation_id, style, id=f"{operation_id}-{style}")
        for operation_id, (_, model) in REPRESENTATIVE.items()
        if model is not type(None)
        for style in STYLES
    ]


@pytest.mark.parametrize(("operation_id", "style"), _success_cases())
def test_success_parses_into_the_model(operation_id: str, style: str) -> None:
    """A documented success answer becomes the operation's model, with every field kept."""
    status, example = _success(operation_id)
    result = call(operation_id, style, answer(status, example))
    model = parsed(style, result)
    assert isinstance(model, REPRESENTATIVE[operation_id][1])
    assert with_parsed_datetimes(model.to_dict()) == with_parsed_datetimes(example)
    if style.endswith("_detailed"):
        assert isinstance(result, Response)
        assert result.status_code == status


def _error_cases() -> list[Any]:
    cases: list[Any] = []
    for operation_id in REPRESENTATIVE:
        for status in _operation(operation_id)["responses"]:
            if status.startswith("2"):
                continue
            # A range such as 5XX is tried at both ends and in the middle.
            codes = [int(status)] if status.isdigit() else [int(status[0]) * 100 + n for n in (0, 3, 99)]
            cases.extend(
                pytest.param(operation_id, code, s, id=f"{operation_id}-{code}-{s}") for code in codes for s in STYLES
            )
    return cases


@pytest.mark.parametrize(("operation_id", "status", "style"), _error_cases())
def test_each_documented_error_status_parses_into_error(operation_id: str, status: int, style: str) -> None:
    """Every documented error status gives the shared Error model, code and message included."""
    body = {"code": "some_code", "message": "what went wrong", "details": [{"field": "name", "reason": "required"}]}
    result = call(operation_id, style, answer(status, body))
    error = parsed(style, result)
    assert isinstance(error, Error)
    assert (error.code, error.message) == ("some_code", "what went wrong")
    assert error.details[0].field == "name"  # type: ignore[index]
    if style.endswith("_detailed"):
        assert result.status_code == status


@pytest.mark.parametrize("style", ["sync_detailed", "asyncio_detailed"])
def test_undocumented_status_parses_to_none_in_the_detailed_styles(style: str) -> None:
    """A status the spec does not document leaves `parsed` None, keeping status and body."""
    result = call("getApiKey", style, answer(418, {"surprise": True}))
    assert result.parsed is None
    assert result.status_code == 418
    assert json.loads(result.content) == {"surprise": True}


@pytest.mark.parametrize("style", ["sync", "asyncio"])
@pytest.mark.parametrize("status", [pytest.param(418, id="418"), pytest.param(203, id="203")])
def test_undocumented_status_raises_in_the_plain_styles(style: str, status: int) -> None:
    """The plain styles never answer None for "something else": an undocumented status is UnexpectedStatus."""
    with pytest.raises(UnexpectedStatus) as raised:
        call("getApiKey", style, answer(status, {"surprise": True}))
    assert raised.value.status_code == status
    assert json.loads(raised.value.content) == {"surprise": True}


@pytest.mark.parametrize("style", STYLES)
def test_a_204_of_an_operation_that_answers_a_body_is_unexpected(style: str) -> None:
    """createApiKey documents 201 with a key: a 204 is UnexpectedStatus in the plain styles, parsed None else."""
    if style.endswith("_detailed"):
        result = call("createApiKey", style, lambda request: httpx.Response(204))
        assert (result.status_code, result.parsed) == (204, None)
        return
    with pytest.raises(UnexpectedStatus) as raised:
        call("createApiKey", style, lambda request: httpx.Response(204))
    assert raised.value.status_code == 204


@pytest.mark.parametrize("style", ["sync", "asyncio"])
def test_a_documented_error_status_without_an_error_body_raises_its_typed_error(style: str) -> None:
    """A 502 whose body is a proxy's HTML page cannot be returned as an Error: InternalServerError is raised."""
    page = lambda request: httpx.Response(502, text="<html>Bad gateway</html>")  # noqa: E731
    with pytest.raises(cadenya.InternalServerError) as raised:
        call("getApiKey", style, page)
    assert raised.value.status_code == 502


@pytest.mark.parametrize("style", STYLES)
def test_undocumented_status_raises_when_asked_to(style: str) -> None:
    """With raise_on_unexpected_status, an undocumented status raises UnexpectedStatus."""
    with pytest.raises(UnexpectedStatus) as raised:
        call("getApiKey", style, answer(418, {"surprise": True}), raise_on_unexpected_status=True)
    assert raised.value.status_code == 418


@pytest.mark.parametrize("style", STYLES)
def test_no_content_answer_has_no_body(style: str) -> None:
    """A 204 (revokeApiKey) parses to None with an empty body."""
    operation = _operation("revokeApiKey")
    function = getattr(operation_module(operation), style)
    client = client_for(lambda request: httpx.Response(204))
    result = invoke(function, style, client=client, api_key_id="apikey_01JD7Z3M5W8Q2R4T6Y8U0I2O4P")
    assert parsed(style, result) is None
    if style.endswith("_detailed"):
        assert (result.status_code, result.content) == (204, b"")


@pytest.mark.parametrize("style", STYLES)
def test_session_account_shape_parses_into_session_account(style: str) -> None:
    """getAccount under a session token answers the minimal shape, which parses as SessionAccount."""
    session = {"id": ORGANIZATION, "name": "Acme", "email": "ops@acme.test", "plan": "team", "ownerUserId": "user_1"}
    model = parsed(style, call("getAccount", style, answer(200, session)))
    assert isinstance(model, SessionAccount)
    assert model.owner_user_id == "user_1"
    assert model.to_dict() == session


@pytest.mark.parametrize(
    ("function_name", "arguments", "expected_path", "expected_query"),
    [
        pytest.param("list_api_keys", {}, "/v1/api-keys", b"", id="no-filters-sends-nothing"),
        pytest.param(
            "list_api_keys",
            {"include_revoked": True, "page_size": 50, "page_token": "b3BhcXVl/+="},
            "/v1/api-keys",
            b"includeRevoked=true&pageSize=50&pageToken=b3BhcXVl%2F%2B%3D",
            id="include-revoked-and-cursor",
        ),
        pytest.param(
            "list_api_keys", {"include_revoked": False}, "/v1/api-keys", b"includeRevoked=false", id="explicit-false"
        ),
        pytest.param(
            "list_service_accounts",
            {"organization_id": ORGANIZATION, "expand": ["permissions"], "page_size": 10, "page_token": "abc"},
            f"/organizations/{ORGANIZATION}/service-accounts",
            b"expand%5B%5D=permissions&page_size=10&page_token=abc",
            id="expand-and-snake-case-cursor",
        ),
        pytest.param(
            "get_api_key",
            {"api_key_id": "apikey_01/../x y?z"},
            "/v1/api-keys/apikey_01%2F..%2Fx%20y%3Fz",
            b"",
            id="escaped-path-parameter",
        ),
        pytest.param(
            "delete_service_account_credential",
            {"organization_id": "org#1", "service_account_id": "sa/1", "credential_id": "cred 1"},
            "/organizations/org%231/service-accounts/sa%2F1/credentials/cred%201",
            b"",
            id="three-escaped-path-parameters",
        ),
    ],
)
@pytest.mark.parametrize("style", STYLES)
def test_parameters_are_encoded_as_the_spec_says(
    style: str, function_name: str, arguments: dict[str, Any], expected_path: str, expected_query: bytes
) -> None:
    """Path parameters are escaped; query parameters keep their wire names and are sent only when given."""
    seen, handler = recorder(401, {"code": "unauthenticated", "message": "no such key"})
    tag = "api_keys" if "api_key" in function_name else "service_accounts"
    module = importlib.import_module(f"cadenya.api.{tag}.{function_name}")
    function = getattr(module, style)
    invoke(function, style, client=client_for(handler), **arguments)
    assert len(seen) == 1
    assert seen[0].url.raw_path.split(b"?")[0].decode() == expected_path
    assert seen[0].url.query == expected_query


@pytest.mark.parametrize("style", STYLES)
def test_bearer_token_and_json_body_are_sent(style: str) -> None:
    """The API key goes in the Authorization header; the body is the request model in camelCase JSON."""
    seen, handler = recorder(201, _success("createApiKey")[1])
    body = CreateAPIKeyRequest(name="ci", workspace_ids=["ws_1"], revealable=True, external_id="ext-1")
    function = getattr(operation_module(_operation("createApiKey")), style)
    invoke(function, style, client=client_for(handler), body=body)
    request = seen[0]
    assert request.method == "POST"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "name": "ci",
        "workspaceIds": ["ws_1"],
        "revealable": True,
        "externalId": "ext-1",
    }
