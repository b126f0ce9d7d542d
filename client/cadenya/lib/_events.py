"""The account's webhook events as models: one per kind the spec's `webhooks` section declares, and the
shared `WebhookEvent` shape for a kind this version of the SDK does not know yet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models.api_key_created_event import APIKeyCreatedEvent
from ..models.api_key_revoked_event import APIKeyRevokedEvent
from ..models.api_key_rotated_event import APIKeyRotatedEvent
from ..models.webhook_event import WebhookEvent
from ..models.webhook_secret_rotated_event import WebhookSecretRotatedEvent

AnyWebhookEvent = (
    APIKeyCreatedEvent | APIKeyRotatedEvent | APIKeyRevokedEvent | WebhookSecretRotatedEvent | WebhookEvent
)
"""What `webhooks.verify` returns: match on the class, and keep a `WebhookEvent` case for new kinds."""

EVENT_MODELS: Mapping[
    str, type[APIKeyCreatedEvent | APIKeyRotatedEvent | APIKeyRevokedEvent | WebhookSecretRotatedEvent]
]
EVENT_MODELS = {
    "api_key.created": APIKeyCreatedEvent,
    "api_key.rotated": APIKeyRotatedEvent,
    "api_key.revoked": APIKeyRevokedEvent,
    "webhook_secret.rotated": WebhookSecretRotatedEvent,
}


def parse_event(data: Any) -> AnyWebhookEvent:
    """`data` (a parsed JSON event) as its model; an event of a kind not in EVENT_MODELS as a WebhookEvent.

    Raises ValueError, KeyError or TypeError when `data` is not an event of the documented shape.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("type"), str):
        raise TypeError("an event is a JSON object with a string `type`")
    model = EVENT_MODELS.get(data["type"])
    return model.from_dict(data) if model is not None else WebhookEvent.from_dict(data)
