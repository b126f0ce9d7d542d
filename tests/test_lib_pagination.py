"""cadenya.paginate / apaginate over every list operation (client/cadenya/lib/_pagination.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import cadenya
from cadenya.api.api_keys import list_api_keys
from cadenya.api.service_accounts import list_service_accounts
from cadenya.models import APIKey, ServiceAccount
from tests.helpers import client_for, load_spec, operation_module, operations

KEY = load_spec()["paths"]["/v1/api-keys/{apiKeyId}"]["get"]["responses"]["200"]["content"]["application/json"][
    "example"
]
SERVICE_ACCOUNT = {"id": "V1StGXR8_Z5jdHi6B-myT0123a", "created_at": "2026-01-02T03:04:05Z", "name": "sa",
                   "updated_at": "2026-01-02T03:04:05Z"}  # fmt: skip


def pages(
    named: Callable[[str], dict[str, Any]], token_name: str, seen: list[httpx.Request]
) -> Callable[[httpx.Request], httpx.Response]:
    """Three pages of two, one and one items (named "item <page>-<index>"); each but the last names the next."""
    query_name = "pageToken" if token_name == "nextPageToken" else "page_token"

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = {None: 0, "p2": 1, "p3": 2}[request.url.params.get(query_name)]
        body: dict[str, Any] = {"items": [named(f"item {page}-{i}") for i in range([2, 1, 1][page])]}
        if page < 2:
            body[token_name] = f"p{page + 2}"
        return httpx.Response(200, json=body)

    return handler


def api_key_named(name: str) -> dict[str, Any]:
    return {**KEY, "metadata": {**KEY["metadata"], "name": name}}


def service_account_named(name: str) -> dict[str, Any]:
    return {**SERVICE_ACCOUNT, "name": name}


def test_paginate_walks_every_page_with_the_filters() -> None:
    """Sync: all items in order; each page request repeats the filters and carries the token."""
    seen: list[httpx.Request] = []
    client = client_for(pages(api_key_named, "nextPageToken", seen))
    keys = list(cadenya.paginate(list_api_keys.sync_detailed, client=client, include_revoked=True, page_size=2))
    assert all(isinstance(key, APIKey) for key in keys)
    assert [key.metadata.name for key in keys] == ["item 0-0", "item 0-1", "item 1-0", "item 2-0"]
    assert [r.url.query.decode() for r in seen] == [
        "includeRevoked=true&pageSize=2",
        "includeRevoked=true&pageSize=2&pageToken=p2",
        "includeRevoked=true&pageSize=2&pageToken=p3",
    ]


def test_apaginate_walks_every_page_of_an_organization_list() -> None:
    """Async, snake_case family: path parameters, expand[] and page_token are forwarded."""
    seen: list[httpx.Request] = []
    client = client_for(pages(service_account_named, "next_page_token", seen))

    async def collect() -> list[ServiceAccount]:
        return [
            sa
            async for sa in cadenya.apaginate(
                list_service_accounts.asyncio_detailed, "acct_1", client=client, expand=["permissions"]
            )
        ]

    accounts = asyncio.run(collect())
    assert len(accounts) == 4
    assert all(isinstance(sa, ServiceAccount) for sa in accounts)
    assert seen[1].url.path == "/organizations/acct_1/service-accounts"
    assert seen[1].url.query.decode() == "expand%5B%5D=permissions&page_token=p2"


def test_an_error_page_raises_its_typed_exception() -> None:
    """A page that fails raises, rather than ending the iteration quietly."""
    client = client_for(lambda request: httpx.Response(403, json={"code": "permission_denied", "message": "no"}))
    with pytest.raises(cadenya.PermissionDeniedError):
        list(cadenya.paginate(list_api_keys.sync_detailed, client=client))


@pytest.mark.parametrize(
    ("operation_id", "args"),
    [
        pytest.param("listWorkspaces", (), id="listWorkspaces"),
        pytest.param("listApiKeys", (), id="listApiKeys"),
        pytest.param("listApiKeyWorkspaces", ("apikey_1",), id="listApiKeyWorkspaces"),
        pytest.param("listServiceAccounts", ("acct_1",), id="listServiceAccounts"),
        pytest.param("listServiceAccountCredentials", ("acct_1", "sa_1"), id="listServiceAccountCredentials"),
    ],
)
def test_every_list_operation_can_be_iterated_both_ways(operation_id: str, args: tuple[str, ...]) -> None:
    """Each of the five list operations works with paginate and apaginate."""
    operation = next(op for _, _, op in operations(load_spec()) if op["operationId"] == operation_id)
    module = operation_module(operation)
    client = client_for(lambda request: httpx.Response(200, json={"items": []}))

    async def collect() -> list[Any]:
        return [item async for item in cadenya.apaginate(module.asyncio_detailed, *args, client=client)]

    assert list(cadenya.paginate(module.sync_detailed, *args, client=client)) == []
    assert asyncio.run(collect()) == []
