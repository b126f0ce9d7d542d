"""Quick start: API keys with the Cadenya SDK, in the sync and asyncio call styles.

Reads CADENYA_BASE_URL and CADENYA_API_KEY. `make demo` runs it against a fresh local sandbox.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TypeVar

from cadenya import AuthenticatedClient
from cadenya.api.account import get_account
from cadenya.api.api_keys import create_api_key, list_api_keys, reveal_api_key, revoke_api_key, rotate_api_key
from cadenya.models import (
    Account,
    APIKeyWithToken,
    CreateAPIKeyRequest,
    Error,
    ListAPIKeysResponse,
    RevealAPIKeyResponse,
)

T = TypeVar("T")


def expect(value: object, kind: type[T], doing: str) -> T:
    """The parsed success model, or exit with the API's Error."""
    if isinstance(value, kind):
        return value
    if isinstance(value, Error):
        sys.exit(f"{doing} failed: {value.code}: {value.message}")
    sys.exit(f"{doing} gave an unexpected answer: {value!r}")


def sync_part(base_url: str, api_key: str) -> APIKeyWithToken:
    with AuthenticatedClient(base_url=base_url, token=api_key) as client:
        account = expect(get_account.sync(client=client), Account, "getAccount")
        print(f"signed in to account {account.metadata.name!r} ({account.metadata.id})")

        created = expect(
            create_api_key.sync(client=client, body=CreateAPIKeyRequest(name="quickstart", revealable=True)),
            APIKeyWithToken,
            "createApiKey",
        )
        print(f"created key {created.metadata.id}; its token is shown once: {created.spec.token[:12]}…")

        response = list_api_keys.sync_detailed(client=client, page_size=10)
        page = expect(response.parsed, ListAPIKeysResponse, "listApiKeys")
        print(f"listed {len(page.items)} active keys (HTTP {response.status_code}):")
        for key in page.items:
            print(f"  - {key.metadata.id}  {key.metadata.name}")
        return created


async def async_part(base_url: str, api_key: str, created: APIKeyWithToken) -> None:
    async with AuthenticatedClient(base_url=base_url, token=api_key) as client:
        revealed = expect(
            await reveal_api_key.asyncio(created.metadata.id, client=client), RevealAPIKeyResponse, "reveal"
        )
        print(f"revealed the token again (async): matches = {revealed.token == created.spec.token}")

        rotated = expect(
            await rotate_api_key.asyncio(created.metadata.id, client=client), APIKeyWithToken, "rotateApiKey"
        )
        print(f"rotated the key (async): new token {str(rotated.spec.token)[:12]}…, the old one is now dead")

        async with AuthenticatedClient(base_url=base_url, token=str(created.spec.token)) as old_client:
            answer = await get_account.asyncio_detailed(client=old_client)
        if isinstance(answer.parsed, Error):
            print(
                f"calling with the old token: HTTP {answer.status_code} {answer.parsed.code}: {answer.parsed.message}"
            )

        revoked = await revoke_api_key.asyncio_detailed(created.metadata.id, client=client)
        print(f"revoked the key: HTTP {revoked.status_code}")


def main() -> None:
    base_url = os.environ.get("CADENYA_BASE_URL", "https://api.cadenya.com")
    api_key = os.environ.get("CADENYA_API_KEY")
    if not api_key:
        sys.exit("set CADENYA_API_KEY (and CADENYA_BASE_URL for a sandbox)")
    created = sync_part(base_url, api_key)
    asyncio.run(async_part(base_url, api_key, created))


if __name__ == "__main__":
    main()
