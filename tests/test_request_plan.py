"""The requests the send path prepares from a client's plan (client/cadenya/lib/_send.py): the ones httpx's
own `build_request` makes, and still so after the client or its httpx client change."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import httpx
import pytest

from cadenya import AuthenticatedClient
from cadenya.api.api_keys import get_api_key
from cadenya.lib import _send
from tests.helpers import TOKEN

KEY_ID = "apikey_01JD7Z3M5W8Q2R4T6Y8U0I2O4P"
KEY = {"code": "not_found", "message": "no such key"}

BASE_URLS = [
    pytest.param("https://api.test.cadenya.invalid", id="host"),
    pytest.param("https://api.test.cadenya.invalid/", id="host-slash"),
    pytest.param("http://127.0.0.1:8080/prefix", id="port-and-prefix"),
    pytest.param("https://api.test.cadenya.invalid:443/a/b/", id="default-port-deep-prefix"),
    pytest.param("http://user:secret@api.test.cadenya.invalid", id="userinfo"),
    pytest.param("http://[::1]:9000", id="ipv6"),
    pytest.param("https://api.test.cadenya.invalid/v?tenant=1", id="query-in-base-url"),
]

KWARGS = [
    pytest.param({"method": "get", "url": "/v1/api-keys/apikey_1"}, id="get"),
    pytest.param({"method": "get", "url": "/v1/api-keys/a%2Fb%20c%C3%A9"}, id="quoted-path"),
    pytest.param({"method": "get", "url": "/v1/api-keys/ünï code"}, id="unquoted-path"),
    pytest.param(
        {"method": "get", "url": "/v1/api-keys", "params": {"page_size": 5, "include_revoked": True}}, id="params"
    ),
    pytest.param(
        {"method": "get", "url": "/v1/api-keys", "params": {"q": "a b&c=d", "tag": ["x", "y"]}}, id="params-to-encode"
    ),
    pytest.param({"method": "get", "url": "/v1/api-keys", "params": {}}, id="empty-params"),
    pytest.param({"method": "get", "url": "/v1/api-keys", "params": {"tag": []}}, id="empty-list-param"),
    pytest.param(
        {"method": "get", "url": "/v1/api-keys?page_size=2", "params": {"page_token": "t"}}, id="query-in-path"
    ),
    pytest.param({"method": "get", "url": "v1/api-keys"}, id="path-without-slash"),
    pytest.param({"method": "get", "url": "//elsewhere.invalid/v1"}, id="network-path"),
    pytest.param({"method": "get", "url": "https://other.invalid/v1"}, id="absolute-url"),
    pytest.param(
        {
            "method": "post",
            "url": "/v1/api-keys",
            "json": {"name": "ci"},
            "headers": {"Content-Type": "application/json", "Idempotency-Key": "idem_fixed"},
        },
        id="post-json",
    ),
    pytest.param(
        {"method": "patch", "url": "/v1/api-keys/k", "json": {"name": "x"}, "headers": {"user-agent": "mine/1"}},
        id="header-overriding-a-default-in-other-case",
    ),
    pytest.param({"method": "put", "url": "/v1/x", "content": b"raw"}, id="content"),
    pytest.param({"method": "get", "url": "/v1/x", "cookies": {"session": "s"}}, id="cookies"),
]


def expected(client: AuthenticatedClient, http: httpx.Client, kwargs: dict[str, Any]) -> httpx.Request:
    """The request httpx itself builds from the same arguments and the same merged headers."""
    rest = {key: value for key, value in kwargs.items() if key not in ("method", "url", "headers")}
    headers = _send._merged_headers(client.default_headers(), kwargs.get("headers"))
    return http.build_request(
        kwargs["method"].upper(), kwargs["url"], headers=headers, timeout=cast(httpx.Timeout, client.timeout), **rest
    )


def same(request: httpx.Request, reference: httpx.Request) -> None:
    assert request.method == reference.method
    assert str(request.url) == str(reference.url)
    assert request.url.raw_path == reference.url.raw_path
    assert request.headers.raw == reference.headers.raw
    assert request.extensions == reference.extensions
    assert request.read() == reference.read()


@pytest.mark.parametrize("kwargs", KWARGS)
@pytest.mark.parametrize("base_url", BASE_URLS)
def test_a_prepared_request_is_the_one_build_request_makes(base_url: str, kwargs: dict[str, Any]) -> None:
    """URL, headers in order, timeout and body are those of httpx's build_request, whatever the base URL."""
    client = AuthenticatedClient(base_url=base_url, token=TOKEN, headers={"X-Team": "platform"})
    with httpx.Client(base_url=base_url, headers={"X-Proxy": "yes"}, params=None) as http:
        for _ in range(2):  # the first call makes the plan, the second uses it
            request, _plan = _send._prepare(client, http, dict(kwargs))
            same(request, expected(client, http, kwargs))


@pytest.mark.parametrize(
    "http_options",
    [
        pytest.param({"cookies": {"session": "s"}}, id="cookies"),
        pytest.param({"params": {"tenant": "t"}}, id="params"),
    ],
)
def test_cookies_and_params_of_the_httpx_client_are_merged_as_httpx_does(http_options: dict[str, Any]) -> None:
    """An httpx client with its own cookies or query parameters gives the request httpx would build."""
    client = AuthenticatedClient(base_url="https://api.test.cadenya.invalid", token=TOKEN)
    kwargs = {"method": "get", "url": "/v1/api-keys", "params": {"page_size": 1}}
    with httpx.Client(base_url="https://api.test.cadenya.invalid", **http_options) as http:
        request, _plan = _send._prepare(client, http, dict(kwargs))
        same(request, expected(client, http, kwargs))


def recorded_client() -> tuple[AuthenticatedClient, list[httpx.Request]]:
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(404, json=KEY, headers={"Set-Cookie": "seen=1; Path=/"})

    transport = httpx.MockTransport(answer)
    client = AuthenticatedClient(base_url="https://api.test.cadenya.invalid", token=TOKEN)
    client.set_httpx_client(httpx.Client(base_url="https://api.test.cadenya.invalid", transport=transport))
    client.set_async_httpx_client(httpx.AsyncClient(base_url="https://api.test.cadenya.invalid", transport=transport))
    return client, requests


def call(client: AuthenticatedClient, style: str) -> None:
    if style == "sync":
        get_api_key.sync_detailed(KEY_ID, client=client)
    else:
        asyncio.run(get_api_key.asyncio_detailed(KEY_ID, client=client))


@pytest.mark.parametrize("style", ["sync", "asyncio"])
def test_a_header_set_on_the_httpx_client_later_is_sent(style: str) -> None:
    """A header added to the httpx client after a call is on the next request, as with httpx alone."""
    client, requests = recorded_client()
    call(client, style)
    http = client.get_httpx_client() if style == "sync" else client.get_async_httpx_client()
    http.headers["X-Trace"] = "on"
    call(client, style)
    assert "x-trace" not in requests[0].headers
    assert requests[1].headers["x-trace"] == "on"


@pytest.mark.parametrize("style", ["sync", "asyncio"])
def test_a_cookie_the_server_set_is_sent_back(style: str) -> None:
    """A Set-Cookie of an answer is sent with the next request, as httpx's cookie jar does."""
    client, requests = recorded_client()
    call(client, style)
    call(client, style)
    assert "cookie" not in requests[0].headers
    assert requests[1].headers["cookie"] == "seen=1"


def test_a_timeout_set_on_the_client_later_is_sent() -> None:
    """Assigning client.timeout after a call changes the timeout of the next request."""
    client, requests = recorded_client()
    call(client, "sync")
    client.timeout = httpx.Timeout(3.0)
    call(client, "sync")
    assert requests[0].extensions["timeout"]["read"] == 60.0
    assert requests[1].extensions["timeout"] == {"connect": 3.0, "read": 3.0, "write": 3.0, "pool": 3.0}


def test_a_deadline_shorter_than_the_timeout_bounds_every_limit() -> None:
    """With 1 s of deadline left, no limit of the request's timeout is longer than that second."""
    client, requests = recorded_client()
    call(client.with_options(deadline=1.0), "sync")
    assert all(0 < limit <= 1.0 for limit in requests[0].extensions["timeout"].values())


def test_a_deadline_longer_than_the_timeout_leaves_it_as_set() -> None:
    """With more deadline left than the longest limit, the request's timeout is the client's."""
    client, requests = recorded_client()
    call(client.with_options(deadline=100.0, timeout=httpx.Timeout(5.0, read=30.0)), "sync")
    assert requests[0].extensions["timeout"] == {"connect": 5.0, "read": 30.0, "write": 5.0, "pool": 5.0}
