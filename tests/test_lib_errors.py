"""cadenya.unwrap and the typed exceptions (client/cadenya/lib/_errors.py)."""

from __future__ import annotations

import email.utils
import json
import pickle
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import cadenya
from cadenya.api.api_keys import get_api_key, revoke_api_key
from cadenya.models import APIKey
from tests.helpers import TOKEN, client_for, load_spec

KEY_ID = "apikey_01JD7Z3M5W8Q2R4T6Y8U0I2O4P"
EXAMPLE = load_spec()["paths"]["/v1/api-keys/{apiKeyId}"]["get"]["responses"]["200"]["content"]["application/json"][
    "example"
]


def test_unwrap_returns_the_success_model() -> None:
    """A 2xx unwraps to its model."""
    client = client_for(lambda request: httpx.Response(200, json=EXAMPLE))
    assert isinstance(cadenya.unwrap(get_api_key.sync_detailed(KEY_ID, client=client)), APIKey)


def test_unwrap_of_a_204_is_none() -> None:
    """A 204 unwraps to None."""
    client = client_for(lambda request: httpx.Response(204))
    assert cadenya.unwrap(revoke_api_key.sync_detailed(KEY_ID, client=client)) is None


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        pytest.param(400, cadenya.BadRequestError, id="400"),
        pytest.param(401, cadenya.AuthenticationError, id="401"),
        pytest.param(403, cadenya.PermissionDeniedError, id="403"),
        pytest.param(404, cadenya.NotFoundError, id="404"),
        pytest.param(409, cadenya.ConflictError, id="409"),
        pytest.param(422, cadenya.UnprocessableEntityError, id="422"),
        pytest.param(429, cadenya.RateLimitError, id="429"),
        pytest.param(500, cadenya.InternalServerError, id="500"),
        pytest.param(503, cadenya.InternalServerError, id="503"),
        pytest.param(418, cadenya.APIStatusError, id="418"),
    ],
)
def test_unwrap_raises_the_exception_of_the_status(status: int, exception: type[cadenya.APIStatusError]) -> None:
    """Each error status raises its own exception, with status, code, message and request id."""
    body = {"code": "some_code", "message": "what went wrong"}
    client = client_for(lambda request: httpx.Response(status, json=body, headers={"X-Request-Id": "req_abc123"}))
    response = get_api_key.sync_detailed(KEY_ID, client=client.with_options(max_retries=0))
    with pytest.raises(exception) as raised:
        cadenya.unwrap(response)
    error = raised.value
    assert type(error) is exception
    assert error.status_code == status
    assert error.request_id == "req_abc123"
    assert "req_abc123" in str(error)
    if status in (401, 404, 429, 500, 503):  # documented for getApiKey (5XX as a range): the body is read
        assert (error.code, error.message) == ("some_code", "what went wrong")


def test_an_error_status_with_a_body_that_is_not_json_still_raises_its_type() -> None:
    """A proxy's HTML 502 gives parsed=None, and unwrap still raises the status's exception."""
    client = client_for(lambda request: httpx.Response(502, content=b"<html>bad gateway</html>"), max_retries=0)
    response = get_api_key.sync_detailed(KEY_ID, client=client)
    assert response.parsed is None
    with pytest.raises(cadenya.InternalServerError, match="502 unknown: Bad Gateway"):
        cadenya.unwrap(response)


def test_exceptions_never_quote_the_token() -> None:
    """No exception text holds the API key."""
    client = client_for(lambda request: httpx.Response(401, json={"code": "unauthenticated", "message": "no"}))
    with pytest.raises(cadenya.AuthenticationError) as raised:
        cadenya.unwrap(get_api_key.sync_detailed(KEY_ID, client=client))
    assert TOKEN not in str(raised.value)
    assert TOKEN not in repr(raised.value)


def test_response_exposes_the_request_id() -> None:
    """Response.request_id is the X-Request-Id header."""
    client = client_for(lambda request: httpx.Response(200, json=EXAMPLE, headers={"X-Request-Id": "req_42"}))
    response = get_api_key.sync_detailed(KEY_ID, client=client)
    assert response.request_id == "req_42"
    assert cadenya.request_id_of(response) == "req_42"


def _raised(call: Callable[[], object]) -> BaseException:
    try:
        call()
    except BaseException as error:
        return error
    raise AssertionError("nothing was raised")


def _answering(status: int, body: bytes = b"", **headers: str) -> cadenya.AuthenticatedClient:
    return client_for(
        lambda request: httpx.Response(status, content=body, headers={"x-request-id": "req_7", **headers}),
        max_retries=0,
    )


def _error_body(code: str) -> bytes:
    return json.dumps(
        {"code": code, "message": f"about {code}", "details": [{"field": "name", "reason": "x"}]}
    ).encode()


def _refused_connection(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


def _timed_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("slow", request=request)


def _every_public_exception() -> list[Any]:
    from cadenya.lib.webhooks import verify
    from cadenya.types import UnmatchedVariant

    def status(code: int, error_code: str) -> BaseException:
        return _raised(
            lambda: cadenya.unwrap(get_api_key.sync_detailed("k", client=_answering(code, _error_body(error_code))))
        )

    cases = {
        "CadenyaError": cadenya.CadenyaError("something"),
        "ConfigurationError": _raised(lambda: cadenya.AuthenticatedClient(token="has space", base_url="http://x")),
        "InvalidPathParameterError": _raised(lambda: get_api_key.sync_detailed("..", client=_answering(200))),
        "UnexpectedStatus": _raised(lambda: get_api_key.sync(f"k-{TOKEN}", client=_answering(299, TOKEN.encode()))),
        "ResponseTooLargeError": _raised(
            lambda: get_api_key.sync_detailed(
                "k", client=_answering(200, b"x" * 2048).with_options(max_response_bytes=1024)
            )
        ),
        "PageRepeatedError": cadenya.PageRepeatedError("a page token came back"),
        "PageLimitError": cadenya.PageLimitError(3),
        "APIConnectionError": _raised(
            lambda: get_api_key.sync_detailed("k", client=client_for(_refused_connection, max_retries=0))
        ),
        "APITimeoutError": _raised(
            lambda: get_api_key.sync_detailed("k", client=client_for(_timed_out, max_retries=0))
        ),
        "ResponseValidationError": _raised(
            lambda: get_api_key.sync_detailed("k", client=_answering(200, b"{not json"))
        ),
        "APIStatusError": status(418, "teapot"),
        "BadRequestError": status(400, "invalid_argument"),
        "AuthenticationError": status(401, "unauthenticated"),
        "PermissionDeniedError": status(403, "permission_denied"),
        "NotFoundError": status(404, "not_found"),
        "ConflictError": status(409, "api_key_revoked"),
        "UnprocessableEntityError": status(422, "invalid_argument"),
        "RateLimitError": status(429, "resource_exhausted"),
        "InternalServerError": status(500, "internal"),
        "WebhookVerificationError": _raised(lambda: verify(b"{}", {}, "wh_" + "A" * 44)),
        "UnmatchedVariant": UnmatchedVariant("fits none of the shapes"),
    }
    public = {
        name
        for name in cadenya.__all__
        if isinstance(getattr(cadenya, name), type) and issubclass(getattr(cadenya, name), BaseException)
    } | {"WebhookVerificationError", "UnmatchedVariant"}
    assert sorted(cases) == sorted(public)
    for name, error in cases.items():
        assert type(error).__name__ == name, (name, error)
    return [pytest.param(error, id=name) for name, error in cases.items()]


@pytest.mark.parametrize("error", _every_public_exception())
def test_every_public_exception_pickles_with_what_it_says_and_no_secret(error: BaseException) -> None:
    """Unpickled in another process, an exception is the same type with the same message, status, code and
    request id; neither the token nor a body that may echo it is in the pickle."""
    pickled = pickle.dumps(error)
    assert TOKEN.encode() not in pickled
    assert b"Authorization" not in pickled
    copy = pickle.loads(pickled)  # noqa: S301
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    for attribute in ("status_code", "code", "message", "request_id", "parameter", "reason", "max_pages", "operation"):
        assert getattr(copy, attribute, None) == getattr(error, attribute, None), attribute
    if isinstance(error, cadenya.APIStatusError):
        assert isinstance(copy, cadenya.APIStatusError)
        assert copy.request_id == "req_7"
        assert copy.error == error.error
        assert copy.response.status_code == error.response.status_code
        assert copy.response.request_id == "req_7"
        with pytest.raises(type(error)):
            cadenya.unwrap(copy.response)


def _rate_limited(headers: dict[str, str]) -> cadenya.RateLimitError:
    """The RateLimitError a resource call raises for a 429 with these headers (nothing retried)."""
    answer = httpx.Response(429, json={"code": "rate_limited", "message": "slow down"}, headers=headers)
    resource_client = cadenya.Cadenya(client=client_for(lambda request: answer, max_retries=0))
    with pytest.raises(cadenya.RateLimitError) as raised:
        resource_client.api_keys.get(KEY_ID)
    return raised.value


def test_a_rate_limit_error_has_the_retry_after_of_its_answer() -> None:
    """A 429 with `Retry-After: 3` raises a RateLimitError whose retry_after is 3.0 seconds."""
    assert _rate_limited({"Retry-After": "3"}).retry_after == 3.0


def test_a_rate_limit_error_prefers_retry_after_ms() -> None:
    """With `retry-after-ms` as well, retry_after is the finer of the two: 250 ms is 0.25 s."""
    assert _rate_limited({"Retry-After": "3", "retry-after-ms": "250"}).retry_after == 0.25


def test_a_rate_limit_error_reads_an_http_date() -> None:
    """`Retry-After` as an HTTP-date a minute ahead gives about 60 seconds."""
    when = email.utils.formatdate(time.time() + 60, usegmt=True)
    retry_after = _rate_limited({"Retry-After": when}).retry_after
    assert retry_after is not None
    assert 58 <= retry_after <= 60


def test_a_rate_limit_error_without_a_usable_wait_has_none() -> None:
    """A `Retry-After` that is not a wait (garbage) gives retry_after None."""
    assert _rate_limited({"Retry-After": "whenever"}).retry_after is None


def test_a_rate_limit_error_pickles_with_its_retry_after() -> None:
    """retry_after survives pickling, though the headers it was read from stay behind."""
    error = _rate_limited({"Retry-After": "3"})
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301
    assert copy.retry_after == 3.0
    assert "retry-after" not in copy.response.headers
