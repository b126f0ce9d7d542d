"""Verify and sign webhooks per Standard Webhooks (https://www.standardwebhooks.com/).

The account's signing secret is `wh_<base64>` (`whsec_<base64>` is accepted too): the key is the
base64-decoded part after the prefix. Each delivery carries `webhook-id`, `webhook-timestamp` and
`webhook-signature` (one or more space-separated `v1,<base64 HMAC-SHA256>`, several during a rotation).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from ._errors import CadenyaError

__all__ = ["TOLERANCE_SECONDS", "WebhookVerificationError", "sign", "verify"]

TOLERANCE_SECONDS = 5 * 60
_PREFIXES = ("whsec_", "wh_")


class WebhookVerificationError(CadenyaError):
    """The delivery is not authentic, not fresh, or not well formed. One type for every failure."""


def _key(secret: str) -> bytes:
    for prefix in _PREFIXES:
        if secret.startswith(prefix):
            secret = secret[len(prefix) :]
            break
    try:
        return base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("the signing secret is not base64 after its wh_/whsec_ prefix") from None


def _signature(key: bytes, message_id: str, timestamp: int, payload: bytes) -> str:
    signed = message_id.encode() + b"." + str(timestamp).encode() + b"." + payload
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _bytes(payload: bytes | str) -> bytes:
    return payload.encode() if isinstance(payload, str) else payload


def sign(payload: bytes | str, secret: str, *, message_id: str, timestamp: int | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for delivering `payload`."""
    when = int(time.time()) if timestamp is None else timestamp
    signature = _signature(_key(secret), message_id, when, _bytes(payload))
    return {"webhook-id": message_id, "webhook-timestamp": str(when), "webhook-signature": f"v1,{signature}"}


def verify(
    payload: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> Any:
    """Check that `payload` was signed with `secret` within `tolerance` seconds; return it parsed as JSON.

    Raises WebhookVerificationError for a missing or malformed header, a stale or future timestamp,
    a signature that does not match (compared in constant time), or a body that is not JSON.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        message_id, timestamp_text, signatures = (
            lowered["webhook-id"], lowered["webhook-timestamp"], lowered["webhook-signature"],
        )  # fmt: skip
    except KeyError as missing:
        raise WebhookVerificationError(f"missing header {missing.args[0]}") from None
    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not an integer") from None
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError("the delivery is too old")
    if timestamp > current + tolerance:
        raise WebhookVerificationError("the delivery is timestamped in the future")
    expected = _signature(_key(secret), message_id, timestamp, _bytes(payload)).encode()
    matched = False
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            matched = True
    if not matched:
        raise WebhookVerificationError("no signature matches")
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise WebhookVerificationError("the payload is not JSON") from None
