"""cadenya.webhooks: Standard Webhooks signatures for the account's wh_ secret."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from cadenya import webhooks
from cadenya.models import APIKeyCreatedEvent, WebhookEvent

# The published Standard Webhooks test vector.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_PAYLOAD = '{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
VECTOR_HEADERS = {
    "webhook-id": VECTOR_ID,
    "webhook-timestamp": str(VECTOR_TIMESTAMP),
    "webhook-signature": VECTOR_SIGNATURE,
}
WH_SECRET = "wh_" + VECTOR_SECRET.removeprefix("whsec_")


def test_sign_reproduces_the_published_vector() -> None:
    """sign() gives the published signature for the published inputs."""
    headers = webhooks.sign(VECTOR_PAYLOAD, VECTOR_SECRET, message_id=VECTOR_ID, timestamp=VECTOR_TIMESTAMP)
    assert headers == VECTOR_HEADERS


@pytest.mark.parametrize("secret", [VECTOR_SECRET, WH_SECRET], ids=["whsec", "wh"])
def test_verify_accepts_the_vector_with_either_prefix(secret: str) -> None:
    """The same key behind wh_ or whsec_ verifies, and the authentic body comes back."""
    body = webhooks.verify_signature(VECTOR_PAYLOAD, VECTOR_HEADERS, secret, now=VECTOR_TIMESTAMP)
    assert body == VECTOR_PAYLOAD.encode()


def test_a_wh_secret_is_not_decoded_with_its_prefix() -> None:
    """`wh_` is a prefix, not key material (the standardwebhooks package strips only whsec_)."""
    wrong_key = base64.b64encode(b"not the key").decode()
    with pytest.raises(webhooks.WebhookVerificationError, match="no signature matches"):
        webhooks.verify(VECTOR_PAYLOAD, VECTOR_HEADERS, "wh_" + wrong_key, now=VECTOR_TIMESTAMP)


def test_any_of_several_signatures_may_match() -> None:
    """During a rotation a delivery carries several signatures; one match is enough."""
    headers = {**VECTOR_HEADERS, "webhook-signature": f"v1,Zm9vYmFy v2,whatever {VECTOR_SIGNATURE}"}
    assert webhooks.verify_signature(VECTOR_PAYLOAD, headers, VECTOR_SECRET, now=VECTOR_TIMESTAMP)


def test_header_names_are_case_insensitive() -> None:
    """Headers as an HTTP server hands them over, in any case."""
    headers = {name.title(): value for name, value in VECTOR_HEADERS.items()}
    assert webhooks.verify_signature(VECTOR_PAYLOAD, headers, VECTOR_SECRET, now=VECTOR_TIMESTAMP)


@pytest.mark.parametrize(
    ("payload", "headers", "secret", "now", "reason"),
    [
        pytest.param(
            VECTOR_PAYLOAD + " ",
            VECTOR_HEADERS,
            VECTOR_SECRET,
            VECTOR_TIMESTAMP,
            "no signature matches",
            id="tampered-payload",
        ),
        pytest.param(
            VECTOR_PAYLOAD,
            VECTOR_HEADERS,
            "whsec_" + base64.b64encode(b"k" * 24).decode(),
            VECTOR_TIMESTAMP,
            "no signature matches",
            id="other-secret",
        ),
        pytest.param(VECTOR_PAYLOAD, VECTOR_HEADERS, VECTOR_SECRET, VECTOR_TIMESTAMP + 301, "too old", id="stale"),
        pytest.param(VECTOR_PAYLOAD, VECTOR_HEADERS, VECTOR_SECRET, VECTOR_TIMESTAMP - 301, "future", id="future"),
        pytest.param(
            VECTOR_PAYLOAD,
            {**VECTOR_HEADERS, "webhook-id": "msg_other"},
            VECTOR_SECRET,
            VECTOR_TIMESTAMP,
            "no signature matches",
            id="other-id",
        ),
        pytest.param(
            VECTOR_PAYLOAD,
            {k: v for k, v in VECTOR_HEADERS.items() if k != "webhook-signature"},
            VECTOR_SECRET,
            VECTOR_TIMESTAMP,
            "missing header webhook-signature",
            id="missing-signature",
        ),
        pytest.param(
            VECTOR_PAYLOAD,
            {**VECTOR_HEADERS, "webhook-timestamp": "yesterday"},
            VECTOR_SECRET,
            VECTOR_TIMESTAMP,
            "not a number of seconds",
            id="malformed-timestamp",
        ),
        pytest.param(
            VECTOR_PAYLOAD,
            {**VECTOR_HEADERS, "webhook-signature": "garbage"},
            VECTOR_SECRET,
            VECTOR_TIMESTAMP,
            "no signature matches",
            id="malformed-signature",
        ),
        pytest.param(VECTOR_PAYLOAD, VECTOR_HEADERS, "wh_%%%", VECTOR_TIMESTAMP, "not base64", id="malformed-secret"),
    ],
)
def test_every_failure_is_one_typed_exception(
    payload: str, headers: dict[str, str], secret: str, now: int, reason: str
) -> None:
    """Tampering, another key, stale or future timestamps and malformed headers all raise WebhookVerificationError."""
    with pytest.raises(webhooks.WebhookVerificationError, match=reason):
        webhooks.verify_signature(payload, headers, secret, now=now)


def test_five_minutes_either_way_is_accepted() -> None:
    """The tolerance is ±300 seconds inclusive."""
    for now in (VECTOR_TIMESTAMP - 300, VECTOR_TIMESTAMP + 300):
        assert webhooks.verify_signature(VECTOR_PAYLOAD, VECTOR_HEADERS, VECTOR_SECRET, now=now)


def test_sign_then_verify_round_trips_bytes() -> None:
    """A signed event verifies at the current time and comes back as its model."""
    event = {
        "type": "api_key.created",
        "timestamp": "2026-11-02T09:15:27Z",
        "data": {"accountId": "a", "apiKeyId": "k"},
    }
    payload = json.dumps(event).encode()
    headers = webhooks.sign(payload, WH_SECRET, message_id="msg_1")
    verified = webhooks.verify(payload, headers, WH_SECRET)
    assert isinstance(verified, APIKeyCreatedEvent)
    assert verified.data.api_key_id == "k"


def _signed(body: bytes | str, secret: str = WH_SECRET) -> tuple[bytes | str, dict[str, str]]:
    return body, webhooks.sign(body, secret, message_id="msg_1")


@pytest.mark.parametrize("secret", ["", "wh_", "whsec_"], ids=["empty", "wh-only", "whsec-only"])
def test_an_empty_key_is_refused_not_used(secret: str) -> None:
    """A secret with no key material would accept a signature forged with an empty key: refused."""
    import hashlib
    import hmac as hmac_module

    body = b'{"type": "api_key.created"}'
    forged = base64.b64encode(
        hmac_module.new(b"", b"msg_1." + str(int(time.time())).encode() + b"." + body, hashlib.sha256).digest()
    )
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(time.time())),
        "webhook-signature": f"v1,{forged.decode()}",
    }
    with pytest.raises(webhooks.WebhookVerificationError, match="empty"):
        webhooks.verify(body, headers, secret)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="none"),
        pytest.param(b"msg_1", id="bytes"),
        pytest.param("msg_\ud800", id="lone-surrogate"),
    ],
)
def test_a_header_that_is_not_text_is_a_verification_error(value: Any) -> None:
    """None, bytes or unencodable header values: WebhookVerificationError, not AttributeError or UnicodeEncodeError."""
    body, headers = _signed(b"{}")
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify(body, {**headers, "webhook-id": value}, WH_SECRET)


def test_a_payload_that_is_not_text_is_a_verification_error() -> None:
    """A str payload with a lone surrogate cannot have been signed: WebhookVerificationError."""
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify("{\ud800}", dict(webhooks.sign(b"{}", WH_SECRET, message_id="m")), WH_SECRET)


def test_a_signed_body_nested_too_deep_is_a_verification_error() -> None:
    """A signed body nested 100,000 deep: WebhookVerificationError, not RecursionError."""
    body, headers = _signed(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(webhooks.WebhookVerificationError, match="not a JSON event"):
        webhooks.verify(body, headers, WH_SECRET)


@pytest.mark.parametrize(
    "timestamp",
    [
        pytest.param("1_700_000_000", id="underscores"),
        pytest.param(" +1700000000", id="sign-and-space"),
        pytest.param("\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660", id="arabic-indic-digits"),
        pytest.param("-1", id="negative"),
    ],
)
def test_only_plain_ascii_digits_are_a_timestamp(timestamp: str) -> None:
    """int() accepts these; the standard does not: each is a malformed header."""
    body, headers = _signed(b"{}")
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify(body, {**headers, "webhook-timestamp": timestamp}, WH_SECRET, now=int(time.time()))


def test_an_event_of_an_unknown_kind_is_kept() -> None:
    """A kind a later API added verifies and comes back as a WebhookEvent, nothing lost."""
    event = {"type": "workspace.archived", "timestamp": "2026-11-02T09:15:27Z", "data": {"workspaceId": "ws_1"}}
    body, headers = _signed(json.dumps(event))
    verified = webhooks.verify(body, headers, WH_SECRET)
    assert isinstance(verified, WebhookEvent)
    assert verified.to_dict()["data"] == {"workspaceId": "ws_1"}


def _flask_headers(signed: dict[str, str]) -> Any:
    import flask

    app = flask.Flask("receiver")
    with app.test_request_context("/hooks", method="POST", headers=signed):
        return flask.request.headers  # werkzeug.datastructures.EnvironHeaders: not a Mapping


def _django_headers(signed: dict[str, str]) -> Any:
    from django.http.request import HttpHeaders  # type: ignore[import-untyped]

    return HttpHeaders({f"HTTP_{name.upper().replace('-', '_')}": value for name, value in signed.items()})


def _starlette_headers(signed: dict[str, str]) -> Any:
    from starlette.requests import Request

    raw = [(name.encode(), value.encode()) for name, value in signed.items()]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw}).headers


def _aiohttp_headers(signed: dict[str, str]) -> Any:
    from aiohttp.test_utils import make_mocked_request

    return make_mocked_request("POST", "/hooks", headers=signed).headers  # multidict.CIMultiDictProxy


HEADER_OBJECTS = [
    pytest.param(_flask_headers, id="flask-werkzeug"),
    pytest.param(_django_headers, id="django"),
    pytest.param(_starlette_headers, id="starlette"),
    pytest.param(_aiohttp_headers, id="aiohttp"),
    pytest.param(lambda signed: {name.upper(): value for name, value in signed.items()}, id="dict-upper-case"),
    pytest.param(lambda signed: {name.title(): value for name, value in signed.items()}, id="dict-title-case"),
    pytest.param(lambda signed: list(signed.items()), id="list-of-pairs"),
    pytest.param(lambda signed: [(n.encode(), v.encode()) for n, v in signed.items()], id="asgi-raw-bytes"),
]


@pytest.mark.parametrize("make_headers", HEADER_OBJECTS)
def test_verify_takes_the_header_objects_of_the_common_frameworks(make_headers: Any) -> None:
    """The request headers of Flask, Django, Starlette and aiohttp, a dict in any key case and pairs all verify."""
    signed = webhooks.sign(VECTOR_PAYLOAD, VECTOR_SECRET, message_id=VECTOR_ID, timestamp=VECTOR_TIMESTAMP)
    headers = make_headers(signed)
    body = webhooks.verify_signature(VECTOR_PAYLOAD, headers, VECTOR_SECRET, now=VECTOR_TIMESTAMP)
    assert body == VECTOR_PAYLOAD.encode()


@pytest.mark.parametrize("make_headers", HEADER_OBJECTS)
def test_a_forged_signature_fails_whatever_the_header_object(make_headers: Any) -> None:
    """A wrong signature in any of those header objects is still refused."""
    signed = {**VECTOR_HEADERS, "webhook-signature": "v1,AAAA" + VECTOR_SIGNATURE[7:]}
    with pytest.raises(webhooks.WebhookVerificationError, match="no signature matches"):
        webhooks.verify_signature(VECTOR_PAYLOAD, make_headers(signed), VECTOR_SECRET, now=VECTOR_TIMESTAMP)


class _BrokenHeaders:
    def items(self) -> list[tuple[str, str]]:
        raise RuntimeError("broken")


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(42, id="a-number"),
        pytest.param("webhook-id: x", id="text"),
        pytest.param(b"webhook-id: x", id="bytes"),
        pytest.param(["webhook-id", "webhook-timestamp"], id="names-without-values"),
        pytest.param([("webhook-id", "a", "b")], id="triples"),
        pytest.param(_BrokenHeaders(), id="items-raises"),
        pytest.param(None, id="none"),
    ],
)
def test_anything_else_is_a_verification_error(headers: Any) -> None:
    """What is neither a mapping, nor has items(), nor is a list of pairs, gets WebhookVerificationError."""
    with pytest.raises(webhooks.WebhookVerificationError, match="headers must be"):
        webhooks.verify_signature(VECTOR_PAYLOAD, headers, VECTOR_SECRET, now=VECTOR_TIMESTAMP)


def test_a_header_given_twice_with_different_values_is_refused() -> None:
    """Two webhook-signature headers that disagree are ambiguous: refused, whichever would have matched."""
    pairs = [*VECTOR_HEADERS.items(), ("Webhook-Signature", "v1,AAAA")]
    with pytest.raises(webhooks.WebhookVerificationError, match="more than once"):
        webhooks.verify_signature(VECTOR_PAYLOAD, pairs, VECTOR_SECRET, now=VECTOR_TIMESTAMP)
