"""Iterate over every item of a list operation, across pages, sync or async."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, overload

from ..models.api_key import APIKey
from ..models.error import Error
from ..models.list_api_key_workspaces_response import ListAPIKeyWorkspacesResponse
from ..models.list_api_keys_response import ListAPIKeysResponse
from ..models.list_service_account_credentials_response import ListServiceAccountCredentialsResponse
from ..models.list_service_accounts_response import ListServiceAccountsResponse
from ..models.list_workspaces_response import ListWorkspacesResponse
from ..models.service_account import ServiceAccount
from ..models.service_account_credential import ServiceAccountCredential
from ..models.workspace import Workspace
from ..types import UNSET, Response, Unset
from ._errors import unwrap

# One overload per list response of the API, so each iteration is typed with its item model.


@overload
def paginate(
    operation: Callable[..., Response[ListAPIKeysResponse | Error]], /, *args: Any, **kwargs: Any
) -> Iterator[APIKey]: ...
@overload
def paginate(
    operation: Callable[..., Response[ListWorkspacesResponse | Error]], /, *args: Any, **kwargs: Any
) -> Iterator[Workspace]: ...
@overload
def paginate(
    operation: Callable[..., Response[ListAPIKeyWorkspacesResponse | Error]], /, *args: Any, **kwargs: Any
) -> Iterator[Workspace]: ...
@overload
def paginate(
    operation: Callable[..., Response[ListServiceAccountsResponse | Error]], /, *args: Any, **kwargs: Any
) -> Iterator[ServiceAccount]: ...
@overload
def paginate(
    operation: Callable[..., Response[ListServiceAccountCredentialsResponse | Error]], /, *args: Any, **kwargs: Any
) -> Iterator[ServiceAccountCredential]: ...
def paginate(operation: Callable[..., Response[Any]], /, *args: Any, **kwargs: Any) -> Iterator[Any]:
    """Every item of a list operation, fetching pages as needed: `paginate(list_api_keys.sync_detailed, client=c)`.

    Positional arguments (path parameters) and keyword filters (`include_revoked=True`, `expand=[...]`,
    `page_size=...`) are passed to every page. An error status raises its typed exception.
    """
    token: str | Unset = kwargs.pop("page_token", UNSET)
    while True:
        page = unwrap(operation(*args, page_token=token, **kwargs))
        yield from page.items
        if not page.next_page_token:
            return
        token = page.next_page_token


@overload
def apaginate(
    operation: Callable[..., Awaitable[Response[ListAPIKeysResponse | Error]]], /, *args: Any, **kwargs: Any
) -> AsyncIterator[APIKey]: ...
@overload
def apaginate(
    operation: Callable[..., Awaitable[Response[ListWorkspacesResponse | Error]]], /, *args: Any, **kwargs: Any
) -> AsyncIterator[Workspace]: ...
@overload
def apaginate(
    operation: Callable[..., Awaitable[Response[ListAPIKeyWorkspacesResponse | Error]]], /, *args: Any, **kwargs: Any
) -> AsyncIterator[Workspace]: ...
@overload
def apaginate(
    operation: Callable[..., Awaitable[Response[ListServiceAccountsResponse | Error]]], /, *args: Any, **kwargs: Any
) -> AsyncIterator[ServiceAccount]: ...
@overload
def apaginate(
    operation: Callable[..., Awaitable[Response[ListServiceAccountCredentialsResponse | Error]]],
    /,
    *args: Any,
    **kwargs: Any,
) -> AsyncIterator[ServiceAccountCredential]: ...
async def apaginate(
    operation: Callable[..., Awaitable[Response[Any]]], /, *args: Any, **kwargs: Any
) -> AsyncIterator[Any]:
    """`paginate` for the asyncio styles: `async for key in apaginate(list_api_keys.asyncio_detailed, client=c)`."""
    token: str | Unset = kwargs.pop("page_token", UNSET)
    while True:
        page = unwrap(await operation(*args, page_token=token, **kwargs))
        for item in page.items:
            yield item
        if not page.next_page_token:
            return
        token = page.next_page_token
