"""cadenya.webhooks: Standard Webhooks signatures for the account's wh_ secret."""

from __future__ import annotations

import base64

import pytest

from cadenya import webhooks

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
    """The same key behind wh_ or whsec_ verifies, and the payload comes back parsed."""
    assert webhooks.verify(VECTOR_PAYLOAD, VECTOR_HEADERS, secret, now=VECTOR_TIMESTAMP) == {"test": 2432232314}


def test_a_wh_secret_is_not_decoded_with_its_prefix() -> None:
    """`wh_` is a prefix, not key material (the standardwebhooks package strips only whsec_)."""
    wrong_key = base64.b64encode(b"not the key").decode()
    with pytest.raises(webhooks.WebhookVerificationError, match="no signature matches"):
        webhooks.verify(VECTOR_PAYLOAD, VECTOR_HEADERS, "wh_" + wrong_key, now=VECTOR_TIMESTAMP)


def test_any_of_several_signatures_may_match() -> None:
    """During a rotation a delivery carries several signatures; one match is enough."""
    headers = {**VECTOR_HEADERS, "webhook-signature": f"v1,Zm9vYmFy v2,whatever {VECTOR_SIGNATURE}"}
    assert webhooks.verify(VECTOR_PAYLOAD, headers, VECTOR_SECRET, now=VECTOR_TIMESTAMP)


def test_header_names_are_case_insensitive() -> None:
    """Headers as an HTTP server hands them over, in any case."""
    headers = {name.title(): value for name, value in VECTOR_HEADERS.items()}
    assert webhooks.verify(VECTOR_PAYLOAD, headers, VECTOR_SECRET, now=VECTOR_TIMESTAMP)


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
            "not an integer",
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
        webhooks.verify(payload, headers, secret, now=now)


def test_five_minutes_either_way_is_accepted() -> None:
    """The tolerance is ±300 seconds inclusive."""
    for now in (VECTOR_TIMESTAMP - 300, VECTOR_TIMESTAMP + 300):
        assert webhooks.verify(VECTOR_PAYLOAD, VECTOR_HEADERS, VECTOR_SECRET, now=now)


def test_sign_then_verify_round_trips_bytes() -> None:
    """A signed bytes payload verifies at the current time."""
    payload = b'{"type": "api_key.created"}'
    headers = webhooks.sign(payload, WH_SECRET, message_id="msg_1")
    assert webhooks.verify(payload, headers, WH_SECRET) == {"type": "api_key.created"}
