"""cadenya.unwrap and the typed exceptions (client/cadenya/lib/_errors.py)."""

from __future__ import annotations

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
