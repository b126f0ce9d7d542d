"""The client against a hostile server or a careless caller: every failure typed, every body bounded,
every call within its deadline, no secret in any message, local mistakes refused before any I/O."""

from __future__ import annotations

import asyncio
import gzip
import json
import platform
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import cadenya
from cadenya import AuthenticatedClient
from cadenya.api.account import get_account
from cadenya.api.api_keys import create_api_key, get_api_key, list_api_keys, revoke_api_key
from cadenya.lib import _send
from cadenya.models import APIKey, CreateAPIKeyRequest
from cadenya.sandbox import SandboxServer
from tests.helpers import BASE_URL, TOKEN, client_for, load_spec

KEY_ID = "apikey_01JD7Z3M5W8Q2R4T6Y8U0I2O4P"
KEY = load_spec()["paths"]["/v1/api-keys/{apiKeyId}"]["get"]["responses"]["200"]["content"]["application/json"][
    "example"
]
STYLES = ["sync", "asyncio"]
Handler = Callable[[httpx.Request], httpx.Response]


def get_key(style: str, client: AuthenticatedClient) -> Any:
    if style == "sync":
        return get_api_key.sync_detailed(KEY_ID, client=client)
    return asyncio.run(get_api_key.asyncio_detailed(KEY_ID, client=client))


class Counting(httpx.MockTransport):
    """A mock transport that counts requests."""

    def __init__(self, handler: Handler) -> None:
        self.requests: list[httpx.Request] = []

        def counted(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return handler(request)

        super().__init__(counted)


# --- failures that used to escape untyped -------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_a_body_that_is_not_the_gzip_it_claims_is_a_typed_error(style: str) -> None:
    """Content-Encoding: gzip over garbage raises ResponseValidationError, not httpx.DecodingError."""
    garbage = httpx.ByteStream(b"not gzip at all")
    client = client_for(lambda r: httpx.Response(200, stream=garbage, headers={"Content-Encoding": "gzip"}))
    with pytest.raises(cadenya.ResponseValidationError, match="DecodingError"):
        get_key(style, client)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize("style", STYLES)
def test_a_transport_that_cannot_decode_the_body_it_was_given_is_a_typed_error(style: str, encoding: str) -> None:
    """A MockTransport answer built from bytes that are not the encoding they claim is a CadenyaError, not
    httpx.DecodingError; and it is not retried."""
    transport = Counting(
        lambda r: httpx.Response(200, content=b"not compressed", headers={"Content-Encoding": encoding})
    )
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN, httpx_args={"transport": transport})
    with pytest.raises(cadenya.APIConnectionError, match="DecodingError"):
        get_key(style, client)
    assert len(transport.requests) == 1


def _answer_once_over_a_socket(raw: bytes) -> tuple[str, threading.Thread]:
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with listener:
            listener.settimeout(10)
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(raw)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", thread


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize("style", STYLES)
def test_a_server_body_that_is_not_its_content_encoding_is_a_typed_error(style: str, encoding: str) -> None:
    """Over a real socket, a 200 whose body is not the encoding it claims is a ResponseValidationError."""
    body = b"not compressed"
    url, thread = _answer_once_over_a_socket(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: " + encoding.encode()
        + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )  # fmt: skip
    client = AuthenticatedClient(base_url=url, token=TOKEN, max_retries=0)
    with pytest.raises(cadenya.ResponseValidationError, match="DecodingError"):
        get_key(style, client)
    thread.join(timeout=10)


def _default_of_every_httpx_client_argument() -> list[Any]:
    import inspect

    parameters = inspect.signature(httpx.Client).parameters
    return [pytest.param(name, parameter.default, id=name) for name, parameter in parameters.items()]


SET_BY_THE_CLIENT = {
    "base_url": "base_url",
    "cookies": "cookies",
    "timeout": "timeout",
    "verify": "verify",
    "follow_redirects": "follow_redirects",
}


@pytest.mark.parametrize(("name", "value"), _default_of_every_httpx_client_argument())
def test_every_httpx_client_argument_in_httpx_args_works_or_is_refused_at_once(name: str, value: Any) -> None:
    """An argument of httpx.Client that the client sets itself is refused when the client is made, naming the
    option to use; any other is passed to both httpx clients and never fails a call with a TypeError."""
    if name in SET_BY_THE_CLIENT:
        with pytest.raises(cadenya.ConfigurationError, match=f"pass {SET_BY_THE_CLIENT[name]}="):
            AuthenticatedClient(base_url=BASE_URL, token=TOKEN, httpx_args={name: value})
        return
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN, httpx_args={name: value})
    with client.get_httpx_client() as http:
        assert isinstance(http, httpx.Client)

    async def make_async() -> None:
        async with client.get_async_httpx_client() as http:
            assert isinstance(http, httpx.AsyncClient)

    asyncio.run(make_async())


@pytest.mark.parametrize(
    "httpx_args",
    [
        pytest.param({"follow_redirect": True}, id="not-an-httpx-argument"),
        pytest.param({1: True}, id="not-a-name"),
        pytest.param([("transport", None)], id="not-a-mapping"),
    ],
)
def test_httpx_args_that_httpx_would_refuse_are_refused_when_the_client_is_made(httpx_args: Any) -> None:
    """A name httpx.Client does not take, or httpx_args that is not a mapping of names, is a ConfigurationError."""
    with pytest.raises(cadenya.ConfigurationError, match="httpx_args"):
        AuthenticatedClient(base_url=BASE_URL, token=TOKEN, httpx_args=httpx_args)


def test_a_client_copy_keeps_its_httpx_args() -> None:
    """with_options re-checks httpx_args and keeps them: the copy still uses the transport given."""
    transport = Counting(lambda r: httpx.Response(200, json=KEY))
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN, httpx_args={"transport": transport})
    get_key("sync", client.with_options(max_retries=0).with_cookies({"a": "b"}))
    assert len(transport.requests) == 1


@pytest.mark.parametrize("style", STYLES)
def test_a_redirect_loop_is_a_typed_error_and_not_retried(style: str) -> None:
    """follow_redirects=True against a loop: APIConnectionError after the redirect limit, one attempt only."""
    transport = Counting(lambda r: httpx.Response(302, headers={"Location": r.url.path}))
    client = AuthenticatedClient(
        base_url=BASE_URL, token=TOKEN, follow_redirects=True, httpx_args={"transport": transport}
    )
    with pytest.raises(cadenya.APIConnectionError, match="redirected more than 20 times"):
        get_key(style, client)
    assert len(transport.requests) == _send.MAX_REDIRECTS + 1


@pytest.mark.parametrize("style", STYLES)
def test_a_success_body_nested_too_deep_is_a_typed_error(style: str) -> None:
    """A 200 nested 100,000 deep: ResponseValidationError, not a bare RecursionError."""
    client = client_for(lambda r: httpx.Response(200, content=b"[" * 100_000 + b"]" * 100_000))
    with pytest.raises(cadenya.ResponseValidationError, match="nested too deeply"):
        get_key(style, client)


def test_unexpected_status_is_a_cadenya_error_that_does_not_quote_the_body() -> None:
    """A proxy page echoing the request (credentials included) stays out of str(exception)."""
    echo = f"<html>you sent Authorization: Bearer {TOKEN}</html>".encode()
    client = client_for(lambda r: httpx.Response(418, content=echo), raise_on_unexpected_status=True)
    with pytest.raises(cadenya.CadenyaError) as raised:
        get_api_key.sync_detailed(KEY_ID, client=client)
    assert isinstance(raised.value, cadenya.errors.UnexpectedStatus)
    assert raised.value.content == echo
    assert TOKEN not in str(raised.value) and "418" in str(raised.value)


# --- bounds -------------------------------------------------------------------------------------------


def test_a_gzip_bomb_is_refused_without_inflating_it() -> None:
    """A small gzip body that inflates past max_response_bytes raises ResponseTooLargeError."""
    bomb = gzip.compress(b"\0" * (8 * 1024 * 1024))
    client = client_for(
        lambda r: httpx.Response(200, content=bomb, headers={"Content-Encoding": "gzip"}),
        max_response_bytes=1024 * 1024,
    )
    with pytest.raises(cadenya.ResponseTooLargeError, match="max_response_bytes"):
        get_api_key.sync_detailed(KEY_ID, client=client)


def test_an_endless_body_is_read_only_up_to_the_limit() -> None:
    """The body is streamed and counted: reading stops at the limit, not at the end of the stream."""
    pulled: list[int] = []

    def endless() -> Iterator[bytes]:
        for index in range(10_000):  # 10 GB if read whole
            pulled.append(index)
            yield b"x" * (1024 * 1024)

    client = client_for(lambda r: httpx.Response(200, content=endless()), max_response_bytes=4 * 1024 * 1024)
    with pytest.raises(cadenya.ResponseTooLargeError):
        get_api_key.sync_detailed(KEY_ID, client=client)
    assert len(pulled) <= 5


def test_the_body_limit_can_be_raised() -> None:
    """max_response_bytes is a client option and a with_options option."""
    body = json.dumps({**KEY, "padding": "x" * 2_000_000}).encode()
    client = client_for(lambda r: httpx.Response(200, content=body), max_response_bytes=1_000_000)
    with pytest.raises(cadenya.ResponseTooLargeError):
        get_api_key.sync_detailed(KEY_ID, client=client)
    response = get_api_key.sync_detailed(KEY_ID, client=client.with_options(max_response_bytes=4_000_000))
    assert isinstance(response.parsed, APIKey)


class Trickle:
    """A loopback server that answers 200 with a body it sends one byte every 0.2 s (10 s in all)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.server.accept()
        with connection:
            connection.recv(65536)
            body = b" " * 50
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n")
            try:
                for byte in body:
                    if self.finished.wait(0.2):
                        return
                    connection.sendall(bytes([byte]))
            except OSError:
                return

    def close(self) -> None:
        self.finished.set()
        self.server.close()
        self.thread.join(timeout=5)


@pytest.fixture
def trickle() -> Iterator[Trickle]:
    server = Trickle()
    yield server
    server.close()


@pytest.mark.parametrize("style", STYLES)
def test_the_deadline_bounds_the_whole_call_not_each_read(trickle: Trickle, style: str) -> None:
    """A server sending a byte every 0.2 s never trips a 1 s read timeout; the 1 s deadline ends the call."""
    client = AuthenticatedClient(base_url=trickle.url, token=TOKEN, timeout=1.0, deadline=1.0, max_retries=0)
    with pytest.raises(cadenya.APITimeoutError, match="deadline of 1 s"):
        get_key(style, client)
    assert not trickle.finished.is_set()  # the server was still sending: the call did not wait it out


# --- secrets ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(TOKEN + "\n", id="trailing-newline"),
        pytest.param(" " + TOKEN, id="leading-space"),
        pytest.param(TOKEN + "\x00", id="nul"),
        pytest.param("", id="empty"),
        pytest.param("cad_key_é", id="not-ascii"),
    ],
)
def test_a_malformed_token_is_refused_at_once_without_echoing_it(token: str) -> None:
    """A token that cannot go in a header: ConfigurationError at construction, naming no part of it."""
    with pytest.raises(cadenya.ConfigurationError) as raised:
        AuthenticatedClient(base_url=BASE_URL, token=token)
    assert (TOKEN not in str(raised.value)) or not token


def test_a_local_protocol_error_is_not_retried_and_not_quoted(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """A header value h11 refuses (a per-call Idempotency-Key with a line break) fails once, unquoted."""
    sent: list[httpx.Request] = []

    class Recording(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(request)
            return super().handle_request(request)

    client = AuthenticatedClient(
        base_url=sandbox.base_url, token=account["apiKey"], httpx_args={"transport": Recording()}
    )
    with client, pytest.raises(cadenya.APIConnectionError, match="could not be sent") as raised:
        create_api_key.sync_detailed(client=client, body=CreateAPIKeyRequest(name="x"), idempotency_key="idem\nsecret")
    assert len(sent) == 1
    assert "secret" not in str(raised.value) and raised.value.__cause__ is None


@pytest.mark.parametrize("style", STYLES)
def test_the_credential_header_is_not_sent_to_another_host_on_a_redirect(style: str) -> None:
    """A custom auth_header_name is dropped when a redirect leaves the API's origin (kept on the same origin)."""
    transport = Counting(
        lambda r: (
            httpx.Response(307, headers={"Location": "https://elsewhere.invalid/collect"})
            if r.url.host == "api.test.cadenya.invalid" and r.url.path.endswith(KEY_ID)
            else httpx.Response(307, headers={"Location": f"{BASE_URL}/v1/api-keys/{KEY_ID}/again"})
            if r.url.host == "elsewhere.invalid"
            else httpx.Response(200, json=KEY)
        )
    )
    client = AuthenticatedClient(
        base_url=BASE_URL, token=TOKEN, auth_header_name="X-Api-Key", prefix="Key", follow_redirects=True,
        httpx_args={"transport": transport},
    )  # fmt: skip
    assert get_key(style, client).status_code == 200
    hosts = [(r.url.host, r.headers.get("x-api-key")) for r in transport.requests]
    assert hosts == [
        ("api.test.cadenya.invalid", f"Key {TOKEN}"),
        ("elsewhere.invalid", None),
        ("api.test.cadenya.invalid", None),  # once dropped, not restored by the hop back
    ]


# --- local mistakes: refused at once, no network, no secret in the message ----------------------------


def test_constructors_take_keywords_only() -> None:
    """`AuthenticatedClient("cad_key_...")` cannot put the token in base_url any more."""
    with pytest.raises(TypeError):
        AuthenticatedClient("cad_key_positional")  # type: ignore[call-arg,arg-type]


@pytest.mark.parametrize(
    "base_url",
    [
        pytest.param("cad_key_0123456789abcdef", id="a-token"),
        pytest.param("api.cadenya.com", id="no-scheme"),
        pytest.param("ftp://api.cadenya.com", id="other-scheme"),
        pytest.param("https://", id="no-host"),
    ],
)
def test_a_base_url_that_is_not_an_http_url_is_refused_without_echoing_it(base_url: str) -> None:
    """ConfigurationError at construction, with one fixed message that repeats nothing of the value."""
    with pytest.raises(cadenya.ConfigurationError) as raised:
        AuthenticatedClient(base_url=base_url, token=TOKEN)
    assert str(raised.value).startswith("base_url must start with http:// or https:// and name a host")


def test_a_malformed_base_url_from_the_environment_says_where_it_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad $CADENYA_BASE_URL is refused naming the variable, and without repeating its value."""
    monkeypatch.setenv("CADENYA_BASE_URL", "cad_key_0123456789abcdef")
    with pytest.raises(cadenya.ConfigurationError) as raised:
        AuthenticatedClient(token=TOKEN)
    assert str(raised.value).startswith("the CADENYA_BASE_URL environment variable: base_url must start with")
    assert "cad_key_0123456789abcdef" not in str(raised.value)


@pytest.mark.parametrize("client_class", [httpx.Client, httpx.AsyncClient], ids=["sync", "async"])
def test_an_httpx_client_whose_base_url_is_not_http_is_refused(client_class: type[Any]) -> None:
    """set_httpx_client with a client whose base_url is not an http(s) URL is refused when set."""
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN)
    setter = client.set_httpx_client if client_class is httpx.Client else client.set_async_httpx_client
    odd = client_class(base_url="ftp://files.example")
    try:
        with pytest.raises(cadenya.ConfigurationError, match="base_url"):
            setter(odd)
    finally:
        if isinstance(odd, httpx.Client):
            odd.close()
        else:
            asyncio.run(odd.aclose())


@pytest.mark.parametrize("style", ["sync", "async"])
def test_an_httpx_client_without_a_base_url_sends_to_the_clients_own(style: str) -> None:
    """An http_client made without base_url sends every request to the client's base_url."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=KEY)

    http: Any = (httpx.Client if style == "sync" else httpx.AsyncClient)(transport=httpx.MockTransport(answer))
    client = AuthenticatedClient(base_url=BASE_URL + "/prefix", token=TOKEN, http_client=http)
    get_key(style, client)
    assert str(seen[0].url) == f"{BASE_URL}/prefix/v1/api-keys/{KEY_ID}"


def test_a_header_value_with_a_line_break_is_refused() -> None:
    """with_headers cannot smuggle a second header (or a token) into the request."""
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN)
    with pytest.raises(cadenya.ConfigurationError, match="X-Trace"):
        client.with_headers({"X-Trace": "a\r\nInjected: yes"})


# --- smaller ------------------------------------------------------------------------------------------


def test_a_repeating_page_token_stops_paginate() -> None:
    """paginate raises PageRepeatedError instead of following a token it has seen forever."""
    client = client_for(lambda r: httpx.Response(200, json={"items": [KEY], "nextPageToken": "same"}))
    with pytest.raises(cadenya.PageRepeatedError):
        list(cadenya.paginate(list_api_keys.sync_detailed, client=client))


def test_paginate_needs_a_detailed_call_style() -> None:
    """Passing `.sync` is a clear TypeError naming what is expected."""
    client = client_for(lambda r: httpx.Response(200, json={"items": []}))
    with pytest.raises(TypeError, match="_detailed call style"):
        list(cadenya.paginate(list_api_keys.sync, client=client))  # type: ignore[call-overload]


def test_a_lowercase_idempotency_key_header_is_sent_once_and_wins() -> None:
    """Header names are case-insensitive: the caller's key replaces the SDK's, and only one is sent."""
    transport = Counting(lambda r: httpx.Response(201, json=KEY | {"spec": {"token": "cad_key_x", "system": False}}))
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN, httpx_args={"transport": transport})
    create_api_key.sync_detailed(
        client=client.with_headers({"idempotency-key": "mine"}), body=CreateAPIKeyRequest(name="x")
    )
    assert transport.requests[0].headers.get_list("idempotency-key") == ["mine"]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "soon"])
def test_an_unusable_retry_after_falls_back_to_backoff(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry-After: nan (or inf, or garbage) does not turn retries off."""
    monkeypatch.setattr(_send, "INITIAL_RETRY_DELAY", 0.001)
    answers = iter([httpx.Response(503, headers={"Retry-After": value}), httpx.Response(200, json=KEY)])
    client = client_for(lambda r: next(answers))
    assert get_api_key.sync_detailed(KEY_ID, client=client).status_code == 200


def test_unwrap_refuses_an_undocumented_success_and_accepts_a_204() -> None:
    """A 203 has no model to return: UnexpectedStatus. A 204 of a no-content operation unwraps to None."""
    weird = get_api_key.sync_detailed(KEY_ID, client=client_for(lambda r: httpx.Response(203, json=KEY)))
    with pytest.raises(cadenya.UnexpectedStatus, match="203"):
        cadenya.unwrap(weird)
    empty = revoke_api_key.sync_detailed(KEY_ID, client=client_for(lambda r: httpx.Response(204)))
    assert cadenya.unwrap(empty) is None


def test_unwrap_reads_the_error_of_an_undocumented_status() -> None:
    """A 410 the spec does not list still raises with the API's code and message."""
    response = get_api_key.sync_detailed(
        KEY_ID, client=client_for(lambda r: httpx.Response(410, json={"code": "gone", "message": "long gone"}))
    )
    assert response.parsed is None
    with pytest.raises(cadenya.APIStatusError) as raised:
        cadenya.unwrap(response)
    assert (raised.value.code, raised.value.message) == ("gone", "long gone")


def test_a_client_works_again_after_its_with_block(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """Leaving `with client:` closes the connections; the next call opens new ones instead of failing."""
    client = AuthenticatedClient(base_url=sandbox.base_url, token=account["apiKey"])
    with client:
        assert get_account.sync_detailed(client=client).status_code == 200
    try:
        assert get_account.sync_detailed(client=client).status_code == 200
    finally:
        client.get_httpx_client().close()


def test_the_async_client_works_across_two_event_loops(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """Two asyncio.run calls with one client: the second gets connections of its own loop."""
    client = AuthenticatedClient(base_url=sandbox.base_url, token=account["apiKey"])

    async def once() -> int:
        async with client:
            return int((await get_account.asyncio_detailed(client=client)).status_code)

    assert [asyncio.run(once()), asyncio.run(once())] == [200, 200]


def test_a_closed_httpx_client_of_yours_is_a_clear_error() -> None:
    """The SDK does not replace a client you gave it: using it after closing it is a ConfigurationError."""
    mine = httpx.Client(base_url=BASE_URL, transport=httpx.MockTransport(lambda r: httpx.Response(200, json=KEY)))
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN).set_httpx_client(mine)
    mine.close()
    with pytest.raises(cadenya.ConfigurationError, match="closed"):
        get_api_key.sync_detailed(KEY_ID, client=client)


def test_a_copy_made_before_the_first_call_shares_the_connections() -> None:
    """with_options before any request: the copy and the original use one httpx client."""
    client = client_for(lambda r: httpx.Response(200, json=KEY))
    copy = client.with_options(max_retries=0)
    assert copy.get_httpx_client() is client.get_httpx_client()


# --- identification -----------------------------------------------------------------------------------


def test_every_request_says_which_sdk_and_python_sent_it() -> None:
    """User-Agent: cadenya-python/<version> <Python implementation>/<version> <system>/<machine>."""
    transport = Counting(lambda r: httpx.Response(200, json=KEY))
    get_api_key.sync_detailed(
        KEY_ID, client=AuthenticatedClient(base_url=BASE_URL, token=TOKEN, httpx_args={"transport": transport})
    )
    agent = transport.requests[0].headers["user-agent"]
    python = f"{platform.python_implementation()}/{platform.python_version()}"
    assert re.fullmatch(rf"cadenya-python/{re.escape(cadenya.__version__)} {re.escape(python)} \S+/\S+", agent), agent


def test_a_user_agent_of_yours_is_kept() -> None:
    """Your own User-Agent (any case) replaces the SDK's."""
    transport = Counting(lambda r: httpx.Response(200, json=KEY))
    client = AuthenticatedClient(
        base_url=BASE_URL, token=TOKEN, headers={"user-agent": "my-app/1.0"}, httpx_args={"transport": transport}
    )
    get_api_key.sync_detailed(KEY_ID, client=client)
    assert transport.requests[0].headers.get_list("user-agent") == ["my-app/1.0"]


def test_a_user_agent_of_yours_is_kept_by_the_resource_client() -> None:
    """`Cadenya(headers={"User-Agent": ...})` sends yours, not the SDK's."""
    transport = Counting(lambda r: httpx.Response(200, json=KEY))
    client = cadenya.Cadenya(token=TOKEN, base_url=BASE_URL, headers={"User-Agent": "my-app/2.1"})
    client.client.set_httpx_client(httpx.Client(base_url=BASE_URL, transport=transport))
    client.api_keys.get(KEY_ID)
    assert transport.requests[0].headers.get_list("user-agent") == ["my-app/2.1"]


def test_the_version_is_the_one_in_pyproject() -> None:
    """cadenya.__version__ is the installed distribution's version, which pyproject.toml sets."""
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert cadenya.__version__ == pyproject["project"]["version"]


# --- settings checked when they are made ----------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"max_retries": -1}, id="negative-retries"),
        pytest.param({"max_retries": "3"}, id="retries-as-text"),
        pytest.param({"max_retries": True}, id="retries-as-bool"),
        pytest.param({"max_retries": 2.5}, id="fractional-retries"),
        pytest.param({"timeout": -5}, id="negative-timeout"),
        pytest.param({"timeout": 0}, id="zero-timeout"),
        pytest.param({"timeout": float("nan")}, id="nan-timeout"),
        pytest.param({"timeout": float("inf")}, id="infinite-timeout"),
        pytest.param({"timeout": "5"}, id="timeout-as-text"),
        pytest.param({"timeout": httpx.Timeout(-1)}, id="negative-httpx-timeout"),
        pytest.param({"timeout": httpx.Timeout(5, connect=float("nan"))}, id="nan-connect-timeout"),
        pytest.param({"max_pages": 0}, id="zero-pages"),
        pytest.param({"max_pages": "10"}, id="pages-as-text"),
    ],
)
def test_a_bad_setting_is_refused_when_the_client_is_made(options: dict[str, Any]) -> None:
    """max_retries, timeout and max_pages outside their ranges raise ConfigurationError at construction."""
    with pytest.raises(cadenya.ConfigurationError):
        AuthenticatedClient(base_url=BASE_URL, token=TOKEN, **options)
    with pytest.raises(cadenya.ConfigurationError):
        AuthenticatedClient(base_url=BASE_URL, token=TOKEN).with_options(**options)
    with pytest.raises(cadenya.ConfigurationError):
        cadenya.Cadenya(base_url=BASE_URL, token=TOKEN, **options)


@pytest.mark.parametrize(
    "timeout",
    [
        pytest.param(5, id="int"),
        pytest.param(0.25, id="float"),
        pytest.param(httpx.Timeout(5, connect=None), id="httpx-timeout-with-an-open-phase"),
    ],
)
def test_a_good_timeout_is_kept(timeout: float | httpx.Timeout) -> None:
    """Positive finite seconds, or an httpx.Timeout of them (None for a phase), are accepted as given."""
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN, timeout=timeout)
    assert client.timeout == (timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout))


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("-100", id="negative"),
        pytest.param("0", id="zero"),
        pytest.param("Wed, 21 Oct 2015 07:28:00 GMT", id="past-date"),
    ],
)
def test_a_retry_after_that_asks_for_no_wait_gets_the_backoff(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry-After: -100 (or 0, or a date gone by) does not turn three retries into a burst."""
    monkeypatch.setattr(_send, "INITIAL_RETRY_DELAY", 0.04)
    transport = Counting(lambda r: httpx.Response(503, headers={"Retry-After": value}))
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN, max_retries=3, httpx_args={"transport": transport})
    started = time.monotonic()
    assert get_api_key.sync_detailed(KEY_ID, client=client).status_code == 503
    elapsed = time.monotonic() - started
    assert len(transport.requests) == 4
    assert elapsed >= 0.75 * (0.04 + 0.08 + 0.16)


@pytest.mark.parametrize("style", STYLES)
def test_the_deadline_is_checked_before_every_redirect_hop(style: str) -> None:
    """A slow chain of redirects ends with APITimeoutError at the deadline, not after every hop."""

    def slow_redirect(request: httpx.Request) -> httpx.Response:
        time.sleep(0.1)
        return httpx.Response(302, headers={"Location": f"/v1/api-keys/{KEY_ID}?hop={len(transport.requests)}"})

    transport = Counting(slow_redirect)
    client = AuthenticatedClient(
        base_url=BASE_URL,
        token=TOKEN,
        deadline=0.25,
        max_retries=0,
        follow_redirects=True,
        httpx_args={"transport": transport},
    )
    with pytest.raises(cadenya.APITimeoutError):
        get_key(style, client)
    assert len(transport.requests) <= 4


def _endless_pages(request: httpx.Request) -> httpx.Response:
    page = int(request.url.params.get("pageToken", "0"))
    return httpx.Response(200, json={"items": [KEY], "nextPageToken": str(page + 1)})


def test_paginate_stops_at_the_page_cap() -> None:
    """A list that never ends raises PageLimitError after max_pages pages, having yielded each of them."""
    client = client_for(_endless_pages, max_pages=3)
    seen: list[Any] = []
    with pytest.raises(cadenya.PageLimitError) as raised:
        seen.extend(cadenya.paginate(list_api_keys.sync_detailed, client=client))
    assert raised.value.max_pages == 3


def test_paginate_yields_every_page_up_to_the_cap() -> None:
    """The pages fetched before the cap are all yielded: three pages, three items, then the error."""
    client = client_for(_endless_pages, max_pages=3)
    items = cadenya.paginate(list_api_keys.sync_detailed, client=client)
    assert [next(items).to_dict() for _ in range(3)] == [APIKey.from_dict(KEY).to_dict()] * 3
    with pytest.raises(cadenya.PageLimitError):
        next(items)


def test_the_resource_client_stops_at_the_page_cap() -> None:
    """Iterating `client.api_keys.list()` over an endless list raises PageLimitError at the client's cap."""
    transport = Counting(_endless_pages)
    client = cadenya.Cadenya(
        client=AuthenticatedClient(base_url=BASE_URL, token=TOKEN, max_pages=4, httpx_args={"transport": transport})
    )
    with pytest.raises(cadenya.PageLimitError):
        list(client.api_keys.list())
    assert len(transport.requests) == 4


def test_the_async_resource_client_stops_at_the_page_cap() -> None:
    """`async for` over an endless list raises PageLimitError at the client's cap."""
    transport = Counting(_endless_pages)
    client = cadenya.AsyncCadenya(
        client=AuthenticatedClient(base_url=BASE_URL, token=TOKEN, max_pages=2, httpx_args={"transport": transport})
    )

    async def drain() -> None:
        async for _ in await client.api_keys.list():
            pass

    with pytest.raises(cadenya.PageLimitError):
        asyncio.run(drain())
    assert len(transport.requests) == 2


def test_the_page_cap_error_pickles() -> None:
    """PageLimitError crosses a process boundary with its max_pages."""
    import pickle

    error = pickle.loads(pickle.dumps(cadenya.PageLimitError(7)))  # noqa: S301  (bytes this test made)
    assert (type(error), error.max_pages, str(error)) == (cadenya.PageLimitError, 7, str(cadenya.PageLimitError(7)))
