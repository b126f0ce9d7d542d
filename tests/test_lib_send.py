"""Timeouts, retries, idempotency keys, secrets and logging of every call (client/cadenya/lib/_send.py)."""

from __future__ import annotations

import asyncio
import email.utils
import gc
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import cadenya
from cadenya import AuthenticatedClient
from cadenya.api.api_keys import create_api_key, get_api_key, list_api_keys
from cadenya.lib import _send
from cadenya.models import APIKey, CreateAPIKeyRequest
from tests.helpers import BASE_URL, TOKEN, client_for, load_spec

KEY_ID = "apikey_01JD7Z3M5W8Q2R4T6Y8U0I2O4P"
SPEC = load_spec()
KEY = SPEC["paths"]["/v1/api-keys/{apiKeyId}"]["get"]["responses"]["200"]["content"]["application/json"]["example"]
CREATED = SPEC["paths"]["/v1/api-keys"]["post"]["responses"]["201"]["content"]["application/json"]["example"]
STYLES = ["sync", "asyncio"]

Handler = Callable[[httpx.Request], httpx.Response]


class Script:
    """Answers requests in order from a list of responses or exceptions, recording every request."""

    def __init__(self, *steps: httpx.Response | Exception) -> None:
        self.steps, self.requests = list(steps), []  # type: list[httpx.Response | Exception], list[httpx.Request]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        return step


def get_key(style: str, handler: Handler, **options: Any) -> Any:
    client = client_for(handler, **options)
    if style == "sync":
        return get_api_key.sync_detailed(KEY_ID, client=client)
    return asyncio.run(get_api_key.asyncio_detailed(KEY_ID, client=client))


def create_key(style: str, handler: Handler, **arguments: Any) -> Any:
    client = client_for(handler)
    body = CreateAPIKeyRequest(name="ci")
    if style == "sync":
        return create_api_key.sync_detailed(client=client, body=body, **arguments)
    return asyncio.run(create_api_key.asyncio_detailed(client=client, body=body, **arguments))


def ok() -> httpx.Response:
    return httpx.Response(200, json=KEY, headers={"X-Request-Id": "req_ok"})


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "retry_after",
    [
        pytest.param({"Retry-After": "0"}, id="seconds"),
        pytest.param({"retry-after-ms": "20"}, id="milliseconds"),
        pytest.param({"Retry-After": email.utils.formatdate(time.time() - 5, usegmt=True)}, id="http-date"),
    ],
)
def test_429_is_retried_after_the_wait_the_server_asks(style: str, retry_after: dict[str, str]) -> None:
    """A 429 with Retry-After (seconds, HTTP-date) or retry-after-ms is retried, and the retry succeeds."""
    script = Script(httpx.Response(429, json={"code": "rate_limited", "message": "slow"}, headers=retry_after), ok())
    response = get_key(style, script)
    assert response.status_code == 200
    assert isinstance(response.parsed, APIKey)
    assert len(script.requests) == 2


@pytest.mark.parametrize("style", STYLES)
def test_a_wait_past_the_cap_is_not_slept_but_returned(style: str) -> None:
    """A Retry-After beyond the cap is not waited for: the 429 comes back at once, and unwrap raises."""
    script = Script(
        httpx.Response(429, json={"code": "rate_limited", "message": "later"}, headers={"Retry-After": "3600"})
    )
    started = time.monotonic()
    response = get_key(style, script)
    assert time.monotonic() - started < 1
    assert len(script.requests) == 1
    with pytest.raises(cadenya.RateLimitError):
        cadenya.unwrap(response)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_then_succeed(style: str, status: int) -> None:
    """408, 429 and 5xx answers are retried."""
    script = Script(httpx.Response(status, headers={"retry-after-ms": "1"}), ok())
    assert get_key(style, script).status_code == 200
    assert len(script.requests) == 2


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(style: str, status: int) -> None:
    """Other error statuses are final."""
    script = Script(httpx.Response(status, json={"code": "x", "message": "y"}))
    assert get_key(style, script).status_code == status
    assert len(script.requests) == 1


@pytest.mark.parametrize("style", STYLES)
def test_a_conflict_is_not_retried_unless_the_server_says_so(style: str) -> None:
    """Every 409 of this API is a state conflict: one attempt, unless the answer carries X-Should-Retry: true."""
    conflict = httpx.Response(409, json={"code": "api_key_revoked", "message": "revoked"})
    script = Script(conflict, ok())
    assert get_key(style, script).status_code == 409
    assert len(script.requests) == 1
    hinted = Script(httpx.Response(409, headers={"x-should-retry": "true", "retry-after-ms": "1"}), ok())
    assert get_key(style, hinted).status_code == 200
    assert len(hinted.requests) == 2


@pytest.mark.parametrize("style", STYLES)
def test_the_server_can_say_not_to_retry(style: str) -> None:
    """x-should-retry: false makes a 409 final."""
    script = Script(
        httpx.Response(409, json={"code": "api_key_limit_reached", "message": "m"}, headers={"x-should-retry": "false"})
    )
    assert get_key(style, script).status_code == 409
    assert len(script.requests) == 1


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("max_retries", [0, 1, 2, 4])
def test_retries_stop_after_max_retries(style: str, max_retries: int) -> None:
    """max_retries bounds the attempts (1 + max_retries); 0 turns retries off."""
    script = Script(httpx.Response(503, headers={"retry-after-ms": "1"}))
    assert get_key(style, script, max_retries=max_retries).status_code == 503
    assert len(script.requests) == 1 + max_retries


def test_default_is_two_retries() -> None:
    """Without options, a failing call is attempted three times."""
    script = Script(httpx.Response(503, headers={"retry-after-ms": "1"}))
    get_key("sync", script)
    assert len(script.requests) == 3


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(httpx.ConnectError("connection refused"), id="connect"),
        pytest.param(httpx.RemoteProtocolError("connection reset mid-body"), id="reset"),
        pytest.param(httpx.ReadTimeout("read timed out"), id="read-timeout"),
    ],
)
def test_transport_failures_are_retried(style: str, failure: Exception, monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection failure or timeout is retried, and the retry can succeed."""
    monkeypatch.setattr(_send, "INITIAL_RETRY_DELAY", 0.001)
    script = Script(failure, ok())
    assert get_key(style, script).status_code == 200
    assert len(script.requests) == 2


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    ("failure", "raised"),
    [
        pytest.param(httpx.ConnectError("refused"), cadenya.APIConnectionError, id="connect"),
        pytest.param(httpx.ReadTimeout("timed out"), cadenya.APITimeoutError, id="timeout"),
    ],
)
def test_exhausted_transport_failures_raise_typed_errors(
    style: str, failure: Exception, raised: type[Exception], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the last retry: APIConnectionError or APITimeoutError (still httpx exceptions), token-free."""
    monkeypatch.setattr(_send, "INITIAL_RETRY_DELAY", 0.001)
    script = Script(failure)
    with pytest.raises(raised) as error:
        get_key(style, script)
    assert isinstance(error.value, httpx.TransportError)
    assert f"/v1/api-keys/{KEY_ID}" in str(error.value)
    assert "after 2 retries" in str(error.value)
    assert TOKEN not in str(error.value)
    assert len(script.requests) == 3


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<html>gateway</html>", id="not-json"),
        pytest.param(json.dumps(KEY).encode()[:40], id="truncated"),
        pytest.param(b'{"metadata": {"id": 1}}', id="wrong-shape"),
        pytest.param(b"[]", id="array"),
    ],
)
def test_unreadable_success_body_raises_a_typed_error_naming_the_operation(style: str, body: bytes) -> None:
    """A 200 whose body is not the model raises ResponseValidationError, never JSONDecodeError/KeyError/TypeError."""
    script = Script(httpx.Response(200, content=body, headers={"X-Request-Id": "req_bad"}))
    with pytest.raises(cadenya.ResponseValidationError) as raised:
        get_key(style, script)
    assert raised.value.operation == "get_api_key"
    assert str(raised.value).startswith("get_api_key: the 200 response body could not be read")
    assert "req_bad" in str(raised.value)


@pytest.mark.parametrize("style", STYLES)
def test_every_post_carries_one_idempotency_key_reused_on_retries(style: str) -> None:
    """A create sends a generated Idempotency-Key, the same on each retry of the call."""
    script = Script(httpx.Response(503, headers={"retry-after-ms": "1"}), httpx.Response(201, json=CREATED))
    assert create_key(style, script).status_code == 201
    keys = [request.headers["Idempotency-Key"] for request in script.requests]
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert keys[0].startswith("idem_")
    again = Script(httpx.Response(201, json=CREATED))
    create_key(style, again)
    assert again.requests[0].headers["Idempotency-Key"] != keys[0]


@pytest.mark.parametrize("style", STYLES)
def test_the_caller_can_choose_the_idempotency_key(style: str) -> None:
    """idempotency_key= is sent as is."""
    script = Script(httpx.Response(201, json=CREATED))
    create_key(style, script, idempotency_key="order-42")
    assert script.requests[0].headers["Idempotency-Key"] == "order-42"


def test_a_post_without_a_key_is_never_retried() -> None:
    """The retry rule refuses a POST that has no Idempotency-Key."""
    client = client_for(lambda request: ok())
    plan = client.request_plan(client.get_httpx_client())
    request = httpx.Request("POST", f"{BASE_URL}/v1/api-keys")
    assert _send._Call(client, request, plan).retry_delay(httpx.Response(503)) is None
    assert _send._Call(client, request, plan).retry_delay(None) is None
    keyed = httpx.Request("POST", f"{BASE_URL}/v1/api-keys", headers={"Idempotency-Key": "k"})
    assert _send._Call(client, keyed, plan).retry_delay(httpx.Response(503)) is not None


@pytest.mark.parametrize("retries_done", [0, 1, 2, 3, 4, 10])
def test_backoff_is_exponential_jittered_and_capped(retries_done: int) -> None:
    """Waits double from 0.5 s, lose up to 25% to jitter, and never pass 8 s."""
    ceiling = min(0.5 * 2**retries_done, 8.0)
    delays = [_send._backoff(retries_done) for _ in range(200)]
    assert all(0.75 * ceiling <= delay <= ceiling for delay in delays)
    assert len(set(delays)) > 1


def test_default_timeout_is_finite_and_sent_with_every_request() -> None:
    """Without options, every request carries 5 s to connect and 60 s to read."""
    script = Script(ok())
    get_key("sync", script)
    timeout = script.requests[0].extensions["timeout"]
    assert (timeout["connect"], timeout["read"]) == (5.0, 60.0)


@pytest.mark.parametrize("style", STYLES)
def test_timeout_can_be_set_per_client_and_per_call(style: str) -> None:
    """timeout= on the client, and with_options(timeout=...) for one call, without touching the original."""
    script = Script(ok())
    client = client_for(script, timeout=10.0)
    one_call = client.with_options(timeout=httpx.Timeout(2.0, connect=1.0), max_retries=0)
    for target in (client, one_call, client):
        if style == "sync":
            get_api_key.sync_detailed(KEY_ID, client=target)
        else:
            asyncio.run(get_api_key.asyncio_detailed(KEY_ID, client=target))
    reads = [(r.extensions["timeout"]["connect"], r.extensions["timeout"]["read"]) for r in script.requests]
    assert reads == [(10.0, 10.0), (1.0, 2.0), (10.0, 10.0)]
    assert (client.max_retries, one_call.max_retries) == (2, 0)


@pytest.mark.parametrize("style", STYLES)
def test_an_injected_httpx_client_keeps_the_sdks_headers_timeout_and_retries(style: str) -> None:
    """Your own httpx client (here with its own transport and header) still gets auth, timeout and retries."""
    script = Script(httpx.Response(503, headers={"retry-after-ms": "1"}), ok())
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN, timeout=7.0)
    transport = httpx.MockTransport(script)
    if style == "sync":
        client.set_httpx_client(httpx.Client(base_url=BASE_URL, transport=transport, headers={"X-Proxy": "yes"}))
        response = get_api_key.sync_detailed(KEY_ID, client=client)
    else:
        client.set_async_httpx_client(
            httpx.AsyncClient(base_url=BASE_URL, transport=transport, headers={"X-Proxy": "yes"})
        )
        response = asyncio.run(get_api_key.asyncio_detailed(KEY_ID, client=client))
    assert response.status_code == 200
    assert len(script.requests) == 2
    for request in script.requests:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["X-Proxy"] == "yes"
        assert request.extensions["timeout"]["read"] == 7.0


def test_the_token_is_in_no_repr_or_str_of_a_client() -> None:
    """repr() and str() of clients, copies and derived clients never show the token."""
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN)
    get_key("sync", Script(ok()))
    for shown in (client, client.with_options(max_retries=1), client.with_headers({"X-A": "b"})):
        assert TOKEN not in repr(shown)
        assert TOKEN not in str(shown)
        assert "base_url='https://api.test.cadenya.invalid'" in repr(shown)


def test_key_and_base_url_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """CADENYA_API_KEY and CADENYA_BASE_URL are used when not passed; production is the default URL."""
    monkeypatch.setenv("CADENYA_API_KEY", "cad_key_from_environment")
    monkeypatch.delenv("CADENYA_BASE_URL", raising=False)
    client = AuthenticatedClient()
    assert client.token == "cad_key_from_environment"
    assert client.get_httpx_client().base_url == httpx.URL("https://api.cadenya.com")
    monkeypatch.setenv("CADENYA_BASE_URL", "http://127.0.0.1:9")
    assert AuthenticatedClient().get_httpx_client().base_url == httpx.URL("http://127.0.0.1:9")
    assert AuthenticatedClient(base_url="http://x.invalid", token="t").token == "t"


def test_a_missing_api_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """No token and no CADENYA_API_KEY: a ValueError that says how to fix it."""
    monkeypatch.delenv("CADENYA_API_KEY", raising=False)
    with pytest.raises(ValueError, match="CADENYA_API_KEY"):
        AuthenticatedClient()


def test_info_logging_names_method_path_status_request_id_and_retries(caplog: pytest.LogCaptureFixture) -> None:
    """One line per call at INFO, with the retry count; no token, no header, no body."""
    script = Script(httpx.Response(503, headers={"retry-after-ms": "1"}), ok())
    with caplog.at_level(logging.DEBUG, logger="cadenya"):
        get_key("sync", script)
        list_api_keys.sync_detailed(
            client=client_for(lambda r: httpx.Response(200, json={"items": []})), page_token="secret-ish"
        )
    info = [record.getMessage() for record in caplog.records if record.levelno == logging.INFO]
    assert info[0].startswith(f"GET /v1/api-keys/{KEY_ID} -> 200 in ")
    assert info[0].endswith("request id req_ok, 1 retry")
    assert "secret-ish" not in caplog.text
    assert TOKEN not in caplog.text
    assert "Authorization" not in caplog.text


def test_cadenya_log_turns_logging_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """CADENYA_LOG=debug sets the `cadenya` logger's level when a client is made."""
    logger = logging.getLogger("cadenya")
    monkeypatch.setattr(logger, "level", logging.NOTSET)
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setenv("CADENYA_LOG", "debug")
    client_for(lambda request: ok())
    assert logger.level == logging.DEBUG
    assert len(logger.handlers) == 1


def _recording_parser(seen: list[bool], fail: bool = False) -> Any:
    def parse(*, client: Any, response: httpx.Response) -> object:
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("not the documented model")
        return json.loads(response.content)

    return parse


@pytest.mark.parametrize("fail", [False, True], ids=["decoded", "refused"])
def test_a_large_body_is_decoded_with_the_collector_paused_and_switched_back_on(fail: bool) -> None:
    """A body of PAUSE_COLLECTOR_FROM bytes or more is parsed with gc off; gc is on again afterwards, however
    the parse ended."""
    seen: list[bool] = []
    body = json.dumps({"items": ["x" * 100] * (_send.PAUSE_COLLECTOR_FROM // 100)}).encode()
    client = client_for(lambda request: httpx.Response(200))
    assert gc.isenabled()
    try:
        _send.build_response(client, httpx.Response(200, content=body), "listApiKeys", _recording_parser(seen, fail))
    except cadenya.ResponseValidationError:
        assert fail
    assert seen == [False]
    assert gc.isenabled()


def test_a_small_body_is_decoded_with_the_collector_as_it_was() -> None:
    """Below PAUSE_COLLECTOR_FROM bytes the collector is not touched."""
    seen: list[bool] = []
    client = client_for(lambda request: httpx.Response(200))
    _send.build_response(client, httpx.Response(200, content=b'{"items": []}'), "listApiKeys", _recording_parser(seen))
    assert seen == [True]


def test_a_collector_switched_off_by_the_application_stays_off() -> None:
    """A decode never switches on a collector it did not switch off."""
    seen: list[bool] = []
    body = b"[" + b"1," * _send.PAUSE_COLLECTOR_FROM + b"1]"
    client = client_for(lambda request: httpx.Response(200))
    gc.disable()
    try:
        _send.build_response(client, httpx.Response(200, content=body), "listApiKeys", _recording_parser(seen))
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert seen == [False]


def test_a_page_decoded_with_the_collector_paused_equals_one_decoded_without() -> None:
    """The pause changes when the collector runs, not what a page decodes to."""
    from cadenya.models import ListAPIKeysResponse

    page = {"items": [KEY] * 200, "nextPageToken": "next"}
    body = json.dumps(page).encode()
    assert len(body) >= _send.PAUSE_COLLECTOR_FROM
    parsed = list_api_keys.sync(client=client_for(lambda request: httpx.Response(200, content=body)))
    assert parsed == ListAPIKeysResponse.from_dict(page)
    assert gc.isenabled()
