"""Every model a call returns carries the `X-Request-Id` of its answer, in every call style, against the sandbox."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from cadenya import AsyncCadenya, AuthenticatedClient, Cadenya
from cadenya.api.api_keys import get_api_key, list_api_keys
from cadenya.models import APIKey, Error, ListAPIKeysResponse
from cadenya.sandbox import SandboxServer
from tests.sandbox_support import Caller

MISSING_KEY = "apikey_01JD8ZZZZZZZZZZZZZZZZZZZZZ"


class Recording(httpx.BaseTransport):
    """The real transport, noting the request id of every answer it hands back."""

    def __init__(self) -> None:
        self.inner, self.request_ids = httpx.HTTPTransport(), list[str]()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        self.request_ids.append(response.headers["x-request-id"])
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncRecording(httpx.AsyncBaseTransport):
    """`Recording`, for the async client."""

    def __init__(self) -> None:
        self.inner, self.request_ids = httpx.AsyncHTTPTransport(), list[str]()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.request_ids.append(response.headers["x-request-id"])
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def _client(sandbox: SandboxServer, account: dict[str, str], transport: Any) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=sandbox.base_url, token=account["apiKey"], httpx_args={"transport": transport})


@pytest.fixture
def key_id(sandbox: SandboxServer, account: dict[str, str]) -> str:
    """The id of a key created for the test."""
    with Cadenya(base_url=sandbox.base_url, token=account["apiKey"]) as api:
        return api.api_keys.create(name="traced").metadata.id


def test_a_resource_call_result_has_the_request_id_the_sandbox_sent(
    sandbox: SandboxServer, account: dict[str, str], key_id: str
) -> None:
    """`api_keys.get` returns an APIKey whose _request_id is the X-Request-Id header of its answer."""
    transport = Recording()
    with Cadenya(client=_client(sandbox, account, transport)) as api:
        key = api.api_keys.get(key_id)
    assert key._request_id is not None
    assert key._request_id == transport.request_ids[-1]


def test_the_raw_response_and_its_parsed_model_agree_on_the_request_id(
    sandbox: SandboxServer, account: dict[str, str], key_id: str
) -> None:
    """Through `with_raw_response`, parsed._request_id is the Response's request_id, the header sent."""
    transport = Recording()
    with Cadenya(client=_client(sandbox, account, transport)) as api:
        raw = api.api_keys.with_raw_response.get(key_id)
    assert isinstance(raw.parsed, APIKey)
    assert raw.parsed._request_id == raw.request_id == transport.request_ids[-1]


def test_each_call_has_a_request_id_of_its_own(sandbox: SandboxServer, account: dict[str, str], key_id: str) -> None:
    """Two calls for the same key give two objects with two different request ids."""
    with Cadenya(base_url=sandbox.base_url, token=account["apiKey"]) as api:
        first, second = api.api_keys.get(key_id), api.api_keys.get(key_id)
    assert first._request_id != second._request_id


def test_objects_nested_in_a_result_have_no_request_id(
    sandbox: SandboxServer, account: dict[str, str], key_id: str
) -> None:
    """Only the object a call returns carries the id; its metadata, spec and info do not."""
    with Cadenya(base_url=sandbox.base_url, token=account["apiKey"]) as api:
        key = api.api_keys.get(key_id)
    assert key._request_id is not None
    assert key.metadata._request_id is None


def test_the_async_resource_client_sets_the_request_id(
    sandbox: SandboxServer, account: dict[str, str], key_id: str
) -> None:
    """`await AsyncCadenya(...).api_keys.get` returns an APIKey with its answer's request id."""
    transport = AsyncRecording()

    async def run() -> APIKey:
        async with AsyncCadenya(client=_client(sandbox, account, transport)) as api:
            return await api.api_keys.get(key_id)

    key = asyncio.run(run())
    assert key._request_id is not None
    assert key._request_id == transport.request_ids[-1]


def test_every_page_of_a_list_has_its_own_request_id(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """A list fetched one key per page: each page, and each answer model behind it, has its answer's id."""
    transport = Recording()
    with Cadenya(client=_client(sandbox, account, transport)) as api:
        api.api_keys.create(name="second")
        pages = list(api.api_keys.list(page_size=1).iter_pages())
    assert len(pages) >= 2
    ids = [page._request_id for page in pages]
    assert ids == transport.request_ids[-len(pages) :]
    assert len(set(ids)) == len(ids)
    assert [page._answer._request_id for page in pages] == ids


def test_sync_detailed_request_id_is_the_parsed_models(api: Caller, key_id: str) -> None:
    """sync_detailed and asyncio_detailed: Response.request_id equals parsed._request_id."""
    response = api(get_api_key, key_id)
    assert isinstance(response.parsed, APIKey)
    assert response.request_id is not None
    assert response.parsed._request_id == response.request_id


def test_a_list_page_from_sync_detailed_has_the_request_id(api: Caller) -> None:
    """The page model of a list operation carries the request id of the answer it came in."""
    response = api(list_api_keys)
    assert isinstance(response.parsed, ListAPIKeysResponse)
    assert response.parsed._request_id == response.request_id


def test_a_documented_error_result_has_the_request_id(api: Caller) -> None:
    """A 404 parsed as the documented `Error` carries its answer's request id too."""
    response = api(get_api_key, MISSING_KEY)
    assert isinstance(response.parsed, Error)
    assert response.parsed._request_id is not None
    assert response.parsed._request_id == response.request_id


@pytest.mark.parametrize("wanted", ["key_id", "missing"])
def test_the_sync_call_style_returns_a_model_with_the_request_id(
    sandbox: SandboxServer, account: dict[str, str], key_id: str, wanted: str
) -> None:
    """`get_api_key.sync`, which returns only the model (or the Error), keeps the request id on it."""
    transport = Recording()
    with _client(sandbox, account, transport) as client:
        result = get_api_key.sync(key_id if wanted == "key_id" else MISSING_KEY, client=client)
    assert isinstance(result, APIKey if wanted == "key_id" else Error)
    assert result._request_id == transport.request_ids[-1]


def test_the_asyncio_call_style_returns_a_model_with_the_request_id(
    sandbox: SandboxServer, account: dict[str, str], key_id: str
) -> None:
    """`await get_api_key.asyncio(...)` keeps the request id on the model it returns."""
    transport = AsyncRecording()

    async def run() -> APIKey | Error:
        async with _client(sandbox, account, transport) as client:
            return await get_api_key.asyncio(key_id, client=client)

    result = asyncio.run(run())
    assert isinstance(result, APIKey)
    assert result._request_id == transport.request_ids[-1]
