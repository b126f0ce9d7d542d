"""A user's program over httpx2: its own clients, its own Limits and Timeout. Type-checked with `mypy --strict`
against the installed package by tests/test_user_typing.py, and run against the sandbox there."""

from __future__ import annotations

import asyncio

import httpx2

from cadenya import AsyncCadenya, AuthenticatedClient, Cadenya
from cadenya.api.account import get_account
from cadenya.models import Error

limits = httpx2.Limits(max_connections=10, max_keepalive_connections=5)
timeout = httpx2.Timeout(10.0, connect=5.0)

with httpx2.Client(limits=limits) as http_client:
    client = Cadenya(http_client=http_client, timeout=timeout)
    key = client.api_keys.create(name="typed-httpx2")
    text: str = key.to_json()
    request_id: str | None = key._request_id
    print(text, request_id)

    beneath = AuthenticatedClient(http_client=http_client, timeout=timeout)
    account = get_account.sync(client=beneath)
    assert not isinstance(account, Error)
    print(account.to_json(indent=None), account._request_id)

made = Cadenya(limits=limits, timeout=timeout)  # clients the SDK makes, with these limits
print(made.account.get()._request_id)
made.close()


async def main() -> None:
    async with httpx2.AsyncClient(limits=limits) as async_http_client:
        async with AsyncCadenya(http_client=async_http_client, timeout=timeout) as client:
            page = await client.api_keys.list(page_size=1)
            print(page._request_id, [item.to_json(indent=None) for item in page.items])
        beneath = AuthenticatedClient(http_client=async_http_client, timeout=timeout)
        account = await get_account.asyncio(client=beneath)
        assert not isinstance(account, Error)
        print(account._request_id)


asyncio.run(main())
