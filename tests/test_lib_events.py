"""Webhook events parse into the model of their kind; a kind from a later API is kept as a WebhookEvent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cadenya.lib._events import EVENT_MODELS, parse_event
from cadenya.models import APIKeyCreatedEvent, WebhookEvent, WebhookSecretRotatedEvent
from tests.helpers import load_spec, resolve

ACCOUNT = "acct_01JD8Z6X2Q4W9K3M7N5P1R8T6V"


def test_every_event_kind_of_the_spec_has_its_model() -> None:
    """The spec's webhooks section and EVENT_MODELS name the same kinds, each with the model of its schema."""
    spec = load_spec()
    declared = {}
    for kind, item in spec["webhooks"].items():
        schema_ref = item["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert resolve(spec, {"$ref": schema_ref})["properties"]["type"]["const"] == kind
        declared[kind] = schema_ref.rsplit("/", 1)[1]
    assert {kind: model.__name__ for kind, model in EVENT_MODELS.items()} == declared
    assert set(spec["components"]["schemas"]["WebhookEventType"]["enum"]) == set(declared)


@pytest.mark.parametrize(
    ("body", "model"),
    [
        pytest.param(
            {
                "type": "api_key.created",
                "timestamp": "2026-11-02T09:15:27Z",
                "data": {"accountId": ACCOUNT, "apiKeyId": "apikey_1"},
            },
            APIKeyCreatedEvent,
            id="api-key-created",
        ),
        pytest.param(
            {"type": "webhook_secret.rotated", "timestamp": "2026-11-02T09:15:27Z", "data": {"accountId": ACCOUNT}},
            WebhookSecretRotatedEvent,
            id="secret-rotated",
        ),
    ],
)
def test_a_known_kind_parses_into_its_model(body: dict[str, Any], model: type[Any]) -> None:
    """Typed fields: the kind, the time as a datetime, the data as its model; to_dict gives the body back."""
    event = parse_event(body)
    assert type(event) is model
    assert isinstance(event, APIKeyCreatedEvent | WebhookSecretRotatedEvent)
    assert event.timestamp == datetime(2026, 11, 2, 9, 15, 27, tzinfo=UTC)
    assert event.data.account_id == ACCOUNT
    assert event.to_dict()["data"] == body["data"]


def test_a_kind_from_a_later_api_is_kept() -> None:
    """An unknown kind is a WebhookEvent: its type as a string and its data as a dict, nothing lost."""
    body = {"type": "workspace.archived", "timestamp": "2026-11-02T09:15:27Z", "data": {"workspaceId": "ws_1"}}
    event = parse_event(body)
    assert type(event) is WebhookEvent
    assert event.type_ == "workspace.archived"
    assert event.data.to_dict() == {"workspaceId": "ws_1"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param([], id="not-an-object"),
        pytest.param({"timestamp": "2026-11-02T09:15:27Z", "data": {}}, id="no-type"),
        pytest.param(
            {"type": "api_key.created", "timestamp": "2026-11-02T09:15:27Z", "data": {}}, id="data-incomplete"
        ),
        pytest.param({"type": "api_key.created", "timestamp": "yesterday", "data": {}}, id="bad-timestamp"),
    ],
)
def test_a_body_that_is_no_event_is_refused(body: Any) -> None:
    """Not the documented shape: an exception, never a half-filled model."""
    with pytest.raises((TypeError, KeyError, ValueError)):
        parse_event(body)
