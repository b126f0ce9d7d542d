"""Verify and sign webhooks per Standard Webhooks (https://www.standardwebhooks.com/).

The account's signing secret is `wh_<base64>` (`whsec_<base64>` is accepted too): the key is the
base64-decoded part after the prefix. Each delivery carries `webhook-id`, `webhook-timestamp` and
`webhook-signature` (one or more space-separated `v1,<base64 HMAC-SHA256>`; the event of a secret rotation
is signed with the old and the new secret, so a receiver holding either can verify it).

`verify` returns the event as its model: `APIKeyCreatedEvent`, `APIKeyRotatedEvent`, `APIKeyRevokedEvent`,
`WebhookSecretRotatedEvent`, or `WebhookEvent` for a kind this version of the SDK does not know.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Iterable, Mapping

from . import _json
from ._errors import CadenyaError
from ._events import AnyWebhookEvent, parse_event

__all__ = [
    "TOLERANCE_SECONDS",
    "AnyWebhookEvent",
    "WebhookHeaders",
    "WebhookVerificationError",
    "sign",
    "verify",
    "verify_signature",
]

TOLERANCE_SECONDS = 5 * 60
_PREFIXES = ("whsec_", "wh_")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class WebhookVerificationError(CadenyaError):
    """The delivery is not authentic, not fresh, or not well formed. One type for every failure."""


def _key(secret: object) -> bytes:
    if not isinstance(secret, str):
        raise WebhookVerificationError("the signing secret must be a string")
    for prefix in _PREFIXES:
        if secret.startswith(prefix):
            secret = secret[len(prefix) :]
            break
    try:
        key = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("the signing secret is not base64 after its wh_/whsec_ prefix") from None
    if not key:
        # An empty key would accept a signature anyone can compute.
        raise WebhookVerificationError("the signing secret is empty")
    return key


def _signature(key: bytes, message_id: str, timestamp: int, payload: bytes) -> str:
    signed = message_id.encode() + b"." + str(timestamp).encode() + b"." + payload
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _bytes(payload: bytes | str) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        try:
            return payload.encode()
        except UnicodeEncodeError:
            raise WebhookVerificationError("the payload is not valid text") from None
    raise WebhookVerificationError("the payload must be bytes or str")


def sign(payload: bytes | str, secret: str, *, message_id: str, timestamp: int | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for delivering `payload`."""
    when = int(time.time()) if timestamp is None else timestamp
    signature = _signature(_key(secret), message_id, when, _bytes(payload))
    return {"webhook-id": message_id, "webhook-timestamp": str(when), "webhook-signature": f"v1,{signature}"}


WebhookHeaders = Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]
"""What `verify` takes as headers: a mapping (dict in any key case, Starlette's, Django's `request.headers`,
aiohttp's `CIMultiDictProxy`), an object with `items()` (werkzeug's `Headers`, which Flask hands you), or
pairs of names and values (an ASGI scope's raw `headers`, as bytes or text)."""


def _pairs(headers: object) -> list[tuple[object, object]]:
    """Every (name, value) of `headers`, names and values as given (bytes decoded as Latin-1)."""
    refused = WebhookVerificationError("headers must be a mapping or a list of (name, value) pairs")
    if isinstance(headers, str | bytes):
        raise refused
    items = getattr(headers, "items", None)
    try:
        if callable(items):
            pairs = list(items())
        elif isinstance(headers, Iterable):
            pairs = list(headers)
        else:
            raise refused
    except WebhookVerificationError:
        raise
    except Exception:
        raise refused from None
    if not all(isinstance(pair, tuple) and len(pair) == 2 for pair in pairs):
        raise refused
    return [(_text(name), _text(value)) for name, value in pairs]


def _text(value: object) -> object:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _header(pairs: list[tuple[object, object]], name: str) -> str:
    """A header's value as text; a missing, repeated, non-text or unencodable one is a verification failure."""
    values = {value for key, value in pairs if isinstance(key, str) and key.lower() == name}
    if not values:
        raise WebhookVerificationError(f"missing header {name}")
    if len(values) > 1:
        raise WebhookVerificationError(f"header {name} is given more than once, with different values")
    (value,) = values
    if not isinstance(value, str) or not value.isascii():
        raise WebhookVerificationError(f"header {name} is not ASCII text")
    return value


def verify(
    payload: bytes | str,
    headers: WebhookHeaders,
    secret: str,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> AnyWebhookEvent:
    """Check that `payload` was signed with `secret` within `tolerance` seconds; return it as its event model.

    Raises WebhookVerificationError for a missing or malformed header, a stale or future timestamp,
    a signature that does not match (compared in constant time), an empty secret, or a body that is not a
    JSON event.
    """
    body = verify_signature(payload, headers, secret, tolerance=tolerance, now=now)
    try:
        return parse_event(_json.loads(body))
    except (ValueError, UnicodeDecodeError, RecursionError, TypeError, KeyError, AttributeError):
        raise WebhookVerificationError("the payload is not a JSON event") from None


def verify_signature(
    payload: bytes | str,
    headers: WebhookHeaders,
    secret: str,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> bytes:
    """`verify` without reading the body: check the signature and freshness, return the authentic bytes."""
    pairs = _pairs(headers)
    message_id = _header(pairs, "webhook-id")
    timestamp_text = _header(pairs, "webhook-timestamp")
    signatures = _header(pairs, "webhook-signature")
    if not _TIMESTAMP.fullmatch(timestamp_text):
        raise WebhookVerificationError("webhook-timestamp is not a number of seconds")
    timestamp = int(timestamp_text)
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError("the delivery is too old")
    if timestamp > current + tolerance:
        raise WebhookVerificationError("the delivery is timestamped in the future")
    body = _bytes(payload)
    expected = _signature(_key(secret), message_id, timestamp, body).encode()
    matched = False
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            matched = True
    if not matched:
        raise WebhookVerificationError("no signature matches")
    return body
