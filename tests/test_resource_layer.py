"""The resource layer's shape: a plain call builds and checks its body once, its raw twin answers the whole
`Response` with the same request, and mypy --strict sees each raw method's real return type."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from cadenya import AsyncCadenya, AuthenticatedClient, Cadenya
from cadenya.lib import _resource
from cadenya.models import APIKey
from cadenya.resources import api_keys
from cadenya.types import Response
from tests.helpers import BASE_URL, TOKEN
from tests.test_user_typing import strict_mypy

KEY = {
    "metadata": {"id": "apikey_1", "accountId": "acct_1", "name": "ci", "profileId": "prof_1"},
    "spec": {"system": False},
    "info": {"workspacesPreview": [], "workspacesTotal": 0},
}


def _transport(sent: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        sent.append(request)
        return httpx.Response(200, json=KEY)

    return httpx.MockTransport(handler)


def _update(client: Any) -> Any:
    return client.api_keys.update("apikey_1", name="renamed", description="d")


def _update_raw(client: Any) -> Any:
    return client.api_keys.with_raw_response.update("apikey_1", name="renamed", description="d")


CALLS = [
    pytest.param(False, _update, id="plain"),
    pytest.param(False, _update_raw, id="raw"),
    pytest.param(True, _update, id="async plain"),
    pytest.param(True, _update_raw, id="async raw"),
]


def _run(asynchronous: bool, call: Callable[[Any], Any], sent: list[httpx.Request]) -> Any:
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN, httpx_args={"transport": _transport(sent)})
    if not asynchronous:
        return call(Cadenya(client=client))

    async def main() -> Any:
        return await call(AsyncCadenya(client=client))

    return asyncio.run(main())


@pytest.mark.parametrize(("asynchronous", "call"), CALLS)
def test_a_resource_call_checks_its_body_once(
    monkeypatch: pytest.MonkeyPatch, asynchronous: bool, call: Callable[[Any], Any]
) -> None:
    """The body is built and checked once per call, plain or raw, not again by a method it goes through."""
    checks: list[str] = []

    def counting(method: str, *args: Any, **fields: Any) -> Any:
        checks.append(method)
        return _resource.request_body(method, *args, **fields)

    monkeypatch.setattr(api_keys, "request_body", counting)
    sent: list[httpx.Request] = []
    _run(asynchronous, call, sent)
    assert checks == ["update"]
    assert len(sent) == 1


@pytest.mark.parametrize(("asynchronous", "call"), CALLS)
def test_plain_and_raw_calls_send_the_same_request(asynchronous: bool, call: Callable[[Any], Any]) -> None:
    """Raw or plain, sync or async, the request on the wire is the same: method, path and JSON body."""
    sent: list[httpx.Request] = []
    _run(asynchronous, call, sent)
    (request,) = sent
    assert (request.method, request.url.path) == ("PATCH", "/v1/api-keys/apikey_1")
    assert json.loads(request.content) == {"name": "renamed", "description": "d"}


@pytest.mark.parametrize(("asynchronous", "call", "answer"), [
    pytest.param(False, _update, APIKey, id="plain"),
    pytest.param(False, _update_raw, Response, id="raw"),
    pytest.param(True, _update, APIKey, id="async plain"),
    pytest.param(True, _update_raw, Response, id="async raw"),
])  # fmt: skip
def test_a_raw_method_answers_the_whole_response(asynchronous: bool, call: Callable[[Any], Any], answer: type) -> None:
    """The plain method answers the model; its raw twin the `Response` whose `parsed` is that model."""
    result = _run(asynchronous, call, [])
    assert isinstance(result, answer)
    if isinstance(result, Response):
        assert isinstance(result.parsed, APIKey)


@pytest.mark.parametrize("form", [
    pytest.param('update("apikey_1", name="x", body=UpdateAPIKeyRequest())', id="both"),
    pytest.param("create()", id="missing required field"),
])  # fmt: skip
def test_a_wrong_body_is_refused_before_anything_is_sent(form: str) -> None:
    """`body=` with its fields, or a required field left out, is a TypeError naming the method; nothing is sent."""
    from cadenya.models import UpdateAPIKeyRequest

    sent: list[httpx.Request] = []
    client = Cadenya(
        client=AuthenticatedClient(base_url=BASE_URL, token=TOKEN, httpx_args={"transport": _transport(sent)})
    )
    with pytest.raises(TypeError, match=r"^(update|create)\(\)"):
        eval(f"client.api_keys.{form}", {"client": client, "UpdateAPIKeyRequest": UpdateAPIKeyRequest})  # noqa: S307
    assert sent == []


TYPED = """
from typing import assert_type

from cadenya import AsyncCadenya, Cadenya
from cadenya.lib._resource import AsyncPager, SyncPage
from cadenya.models import (
    APIKey, APIKeyWithToken, CreateAPIKeyRequest, Error, ListAPIKeysResponse, ListAPIKeyWorkspacesResponse,
    Workspace,
)
from cadenya.types import Response


def sync(client: Cadenya) -> None:
    raw = client.api_keys.with_raw_response
    assert_type(raw.create(name="ci"), Response[APIKeyWithToken | Error])
    assert_type(raw.create(body=CreateAPIKeyRequest(name="ci")), Response[APIKeyWithToken | Error])
    assert_type(raw.get("apikey_1"), Response[APIKey | Error])
    assert_type(raw.list(), Response[ListAPIKeysResponse | Error])
    assert_type(raw.revoke("apikey_1"), Response[None | Error])
    assert_type(client.api_keys.workspaces.with_raw_response.list("apikey_1"), Response[ListAPIKeyWorkspacesResponse | Error])
    assert_type(client.api_keys.create(name="ci"), APIKeyWithToken)
    assert_type(client.api_keys.list(), SyncPage[APIKey])
    assert_type(client.api_keys.revoke("apikey_1"), None)


async def asynchronous(client: AsyncCadenya) -> None:
    raw = client.api_keys.with_raw_response
    assert_type(await raw.create(name="ci"), Response[APIKeyWithToken | Error])
    assert_type(await raw.get("apikey_1"), Response[APIKey | Error])
    assert_type(await raw.list(), Response[ListAPIKeysResponse | Error])
    assert_type(await client.api_keys.get("apikey_1"), APIKey)
    assert_type(client.api_keys.workspaces.list("apikey_1"), AsyncPager[Workspace])
"""


def test_mypy_sees_the_real_return_type_of_each_raw_method(tmp_path: Path) -> None:
    """mypy --strict: raw methods answer `Response[X | Error]` (both body overloads), plain ones the model."""
    script = tmp_path / "typed.py"
    script.write_text(TYPED, encoding="utf-8")
    result = strict_mypy(tmp_path, script)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_refuses_a_raw_answer_taken_for_the_model(tmp_path: Path) -> None:
    """The check can fail: a raw answer is not the model, and a raw method takes no unknown keyword."""
    script = tmp_path / "wrong.py"
    script.write_text(
        "from cadenya import Cadenya\nfrom cadenya.models import APIKey\n\n"
        "def f(client: Cadenya) -> APIKey:\n    return client.api_keys.with_raw_response.get('apikey_1')\n\n"
        "def g(client: Cadenya) -> None:\n    client.api_keys.with_raw_response.update('apikey_1', nam='x')\n",
        encoding="utf-8",
    )
    result = strict_mypy(tmp_path, script)
    assert result.returncode == 1, result.stdout
    assert 'Incompatible return value type (got "Response[APIKey | Error]", expected "APIKey")' in result.stdout
    assert "No overload variant" in result.stdout, result.stdout
