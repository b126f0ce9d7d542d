"""A small application built on the Cadenya SDK: it gives each team a workspace and a CI key, and keeps an
audit trail from the account's webhooks.

Its tests (tests/) run against the sandbox through the fixtures of `cadenya[sandbox]`'s pytest plugin alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cadenya
from cadenya.models import APIKeyWithToken, Workspace


def workspace_for(client: cadenya.Cadenya, team: str) -> Workspace:
    """The team's workspace, created the first time."""
    for workspace in client.workspaces.list():
        if workspace.metadata.labels and workspace.metadata.labels.additional_properties.get("team") == team:
            return workspace
    return client.workspaces.create(name=f"{team} CI", labels={"team": team})


def provision_ci_key(client: cadenya.Cadenya, team: str) -> APIKeyWithToken:
    """A new CI key for the team, reaching the team's workspace only."""
    workspace = workspace_for(client, team)
    return client.api_keys.create(
        name=f"{team} CI", labels={"team": team}, workspace_ids=[workspace.metadata.id], revealable=False
    )


def retire_ci_keys(client: cadenya.Cadenya, team: str) -> int:
    """Revoke every active key of the team; how many were revoked."""
    revoked = 0
    for key in client.api_keys.list():
        labels = key.metadata.labels.additional_properties if key.metadata.labels else {}
        if labels.get("team") == team and not key.spec.system:
            client.api_keys.revoke(key.metadata.id)
            revoked += 1
    return revoked


async def count_keys(client: cadenya.AsyncCadenya) -> int:
    """How many keys the account has, through the async client."""
    return len([key async for key in client.api_keys.list()])


@dataclass
class AuditTrail:
    """What the account's webhooks said happened, one line each."""

    lines: list[str] = field(default_factory=list)

    def record(self, event: Any) -> None:
        key = getattr(event.data, "api_key_id", None)
        self.lines.append(f"{event.timestamp:%Y-%m-%d} {event.type_}" + (f" {key}" if key else ""))
