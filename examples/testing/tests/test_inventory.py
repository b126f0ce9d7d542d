"""The application's tests: nothing but the plugin's fixtures, and no conftest.py."""

from __future__ import annotations

import asyncio

import inventory
import pytest

import cadenya
from cadenya.sandbox import fault_header


def test_a_team_gets_a_key_that_reaches_its_workspace_only(cadenya_client: cadenya.Cadenya) -> None:
    key = inventory.provision_ci_key(cadenya_client, "platform")
    workspace = inventory.workspace_for(cadenya_client, "platform")
    reached = [reachable.metadata.id for reachable in cadenya_client.api_keys.workspaces.list(key.metadata.id)]
    assert reached == [workspace.metadata.id]
    assert key.spec.token.startswith("cad_key_")


def test_provisioning_twice_reuses_the_workspace(cadenya_client: cadenya.Cadenya) -> None:
    inventory.provision_ci_key(cadenya_client, "data")
    inventory.provision_ci_key(cadenya_client, "data")
    assert len(list(cadenya_client.workspaces.list())) == 1


def test_retiring_revokes_the_teams_keys_and_the_webhooks_say_so(
    cadenya_client: cadenya.Cadenya, cadenya_webhooks: cadenya.sandbox.WebhookReceiver
) -> None:
    trail = inventory.AuditTrail()
    key = inventory.provision_ci_key(cadenya_client, "web")
    trail.record(cadenya_webhooks.wait_for("api_key.created"))
    assert inventory.retire_ci_keys(cadenya_client, "web") == 1
    trail.record(cadenya_webhooks.wait_for("api_key.revoked"))
    assert [line.split(" ", 1)[1] for line in trail.lines] == [
        f"api_key.created {key.metadata.id}",
        f"api_key.revoked {key.metadata.id}",
    ]


@pytest.mark.cadenya_fault("status=503", times=1)
def test_a_passing_outage_is_retried_by_the_sdk(cadenya_client: cadenya.Cadenya) -> None:
    assert inventory.provision_ci_key(cadenya_client, "ops").metadata.name == "ops CI"


def test_an_error_reaches_the_application_typed(cadenya_client: cadenya.Cadenya) -> None:
    with pytest.raises(cadenya.NotFoundError):
        cadenya_client.api_keys.list(extra_headers=fault_header("status=404"))


def test_the_async_client_counts_the_keys(async_cadenya_client: cadenya.AsyncCadenya) -> None:
    assert asyncio.run(inventory.count_keys(async_cadenya_client)) == 1
