"""Quick start: API keys with the Cadenya SDK, first with the resource client, then with the per-operation
functions beneath it (the sync and asyncio call styles).

Reads CADENYA_BASE_URL and CADENYA_API_KEY. `make demo` runs it against a fresh local sandbox.
"""

from __future__ import annotations

import asyncio
import os
import sys

import cadenya
from cadenya import AuthenticatedClient, Cadenya
from cadenya.api.account import get_account
from cadenya.api.api_keys import reveal_api_key, revoke_api_key, rotate_api_key
from cadenya.models import Account, APIKeyWithToken, Error, RevealAPIKeyResponse


def with_resources() -> APIKeyWithToken:
    """The resource client: keyword arguments in, models out, errors raised, lists paged for you."""
    with Cadenya() as client:  # $CADENYA_API_KEY, $CADENYA_BASE_URL
        account = client.account.get()
        if not isinstance(account, Account):  # an API key gets the full Account, a session token the short one
            sys.exit("getAccount answered the session shape to an API key")
        print(f"signed in to account {account.metadata.name!r} ({account.metadata.id})")

        created = client.api_keys.create(name="quickstart", revealable=True, labels={"purpose": "demo"})
        print(f"created key {created.metadata.id}; its token is shown once: {created.spec.token[:12]}…")

        keys = list(client.api_keys.list(page_size=10))  # every page, fetched as needed
        print(f"listed {len(keys)} active keys:")
        for key in keys:
            print(f"  - {key.metadata.id}  {key.metadata.name}")

        try:
            client.api_keys.get("apikey_does_not_exist")
        except cadenya.NotFoundError as error:
            print(f"a key that does not exist: {error.status_code} {error.code}")
        return created


async def with_functions(created: APIKeyWithToken) -> None:
    """The layer beneath: one module per operation, four call styles, `Response[Model | Error]`."""
    async with AuthenticatedClient() as client:
        revealed = await reveal_api_key.asyncio(created.metadata.id, client=client)
        if not isinstance(revealed, RevealAPIKeyResponse):
            sys.exit(f"reveal failed: {revealed!r}")
        print(f"revealed the token again (async): matches = {revealed.token == created.spec.token}")

        rotated = await rotate_api_key.asyncio(created.metadata.id, client=client)
        if not isinstance(rotated, APIKeyWithToken):
            sys.exit(f"rotate failed: {rotated!r}")
        print(f"rotated the key (async): new token {rotated.spec.token[:12]}…, the old one is now dead")

        async with AuthenticatedClient(token=created.spec.token) as old_client:
            answer = await get_account.asyncio_detailed(client=old_client)
        if isinstance(answer.parsed, Error):
            print(
                f"calling with the old token: HTTP {answer.status_code} {answer.parsed.code}: {answer.parsed.message}"
            )

        revoked = await revoke_api_key.asyncio_detailed(created.metadata.id, client=client)
        print(f"revoked the key: HTTP {revoked.status_code}")


def main() -> None:
    if not os.environ.get("CADENYA_API_KEY"):
        sys.exit("set CADENYA_API_KEY (and CADENYA_BASE_URL for a sandbox)")
    created = with_resources()
    asyncio.run(with_functions(created))


if __name__ == "__main__":
    main()
