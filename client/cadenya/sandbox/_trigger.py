"""`cadenya-sandbox trigger EVENT_TYPE`: make an event of that type happen, by doing what causes it through the API."""

from __future__ import annotations

from typing import Any

from cadenya import Cadenya

TRIGGERS = {
    "api_key.created": "creates an API key",
    "api_key.rotated": "creates an API key, then rotates it",
    "api_key.revoked": "creates an API key, then revokes it",
    "webhook_secret.rotated": "rotates the account's webhook signing secret",
}
"""Each event type `trigger` can cause, and what it does for it."""


def trigger(client: Cadenya, event_type: str) -> dict[str, Any]:
    """Cause an event of `event_type` in the account `client` acts for, as a user's call would; what was done.

    The events go to the account's webhook URL like any other: set one first. Causing `api_key.rotated` or
    `api_key.revoked` creates the key first, so an `api_key.created` event comes before them.
    """
    if event_type not in TRIGGERS:
        known = ", ".join(sorted(TRIGGERS))
        raise ValueError(f"no trigger for event type {event_type!r}; the types are: {known}")
    if event_type == "webhook_secret.rotated":
        account = client.account.rotate_webhook_secret()
        return {"eventType": event_type, "accountId": account.metadata.id}
    key = client.api_keys.create(name=f"triggered {event_type}", description="made by cadenya-sandbox trigger")
    if event_type == "api_key.rotated":
        client.api_keys.rotate(key.metadata.id)
    elif event_type == "api_key.revoked":
        client.api_keys.revoke(key.metadata.id)
    return {"eventType": event_type, "accountId": key.metadata.account_id, "apiKeyId": key.metadata.id}
