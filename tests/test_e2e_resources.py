"""The resource clients against the real sandbox, sync and async: a day's work in a few lines."""

from __future__ import annotations

import asyncio

import pytest

import cadenya
from cadenya import AsyncCadenya, Cadenya
from cadenya.models import APIKey, APIKeyWithToken, ServiceAccountCredentialWithSecret
from cadenya.sandbox import SandboxServer


def test_keys_and_service_accounts_with_the_sync_client(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """Create, list (every page), update with a plain dict, rotate, revoke; errors raise typed exceptions."""
    with Cadenya(token=account["apiKey"], base_url=sandbox.base_url) as client:
        created = [client.api_keys.create(name=f"ci-{n}", revealable=True) for n in range(3)]
        assert all(isinstance(key, APIKeyWithToken) and key.spec.token.startswith("cad_key_") for key in created)
        names = [key.metadata.name for key in client.api_keys.list(page_size=2)]
        assert names[-3:] == ["ci-0", "ci-1", "ci-2"]
        updated = client.api_keys.update(created[0].metadata.id, labels={"team": "platform"})
        assert isinstance(updated, APIKey) and updated.metadata.labels and updated.metadata.labels["team"] == "platform"
        rotated = client.api_keys.rotate(created[0].metadata.id)
        assert rotated.spec.token != created[0].spec.token
        assert client.api_keys.reveal(created[0].metadata.id).token == rotated.spec.token
        assert client.api_keys.revoke(created[1].metadata.id) is None  # type: ignore[func-returns-value]
        with pytest.raises(cadenya.ConflictError) as conflict:
            client.api_keys.rotate(created[1].metadata.id)
        assert conflict.value.code == "api_key_revoked"
        org = account["accountId"]
        robot = client.service_accounts.create(org, name="robot")
        credential = client.service_accounts.credentials.create(org, robot.id, name="deploy")
        assert isinstance(credential, ServiceAccountCredentialWithSecret) and credential.client_secret
        assert [c.id for c in client.service_accounts.credentials.list(org, robot.id)] == [credential.id]
        with pytest.raises(cadenya.NotFoundError):
            client.workspaces.get("ws_01JD8ZZZZZZZZZZZZZZZZZZZZZ")


def test_the_async_client_mirrors_the_sync_one(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """The same work with AsyncCadenya: awaited methods, `async for` over every page."""

    async def run() -> list[str]:
        async with AsyncCadenya(token=account["apiKey"], base_url=sandbox.base_url) as client:
            for n in range(3):
                await client.api_keys.create(name=f"async-{n}")
            first = await client.api_keys.list(page_size=2)
            assert len(first.items) == 2 and first.has_next_page()
            workspace = await client.workspaces.create(name="Production", labels={"env": "prod"})
            assert (await client.workspaces.get(workspace.metadata.id)).metadata.name == "Production"
            return [key.metadata.name async for key in client.api_keys.list(page_size=2)]

    names = asyncio.run(run())
    assert names[-3:] == ["async-0", "async-1", "async-2"]
