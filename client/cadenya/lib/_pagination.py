"""Iterate over every item of a list operation, across pages, sync or async.

`paginate(list_api_keys.sync_detailed, client=c, include_revoked=True)`: the filters are the operation's
own keyword arguments, so a type checker catches a misspelt one, and the operation must be a `_detailed`
call style (the one that answers a `Response`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, overload

from ..types import UNSET, Response, Unset
from ._config import DEFAULT_MAX_PAGES
from ._errors import PageLimitError, PageRepeatedError, unwrap

if TYPE_CHECKING:  # the item models only type the overloads: not imported with the package
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

P = ParamSpec("P")
# One overload per list response of the API, so each iteration is typed with its item model, and the
# filters are checked against the operation's own parameters (ParamSpec). mypy reports overloads over
# ParamSpec callables as overlapping even though their return types tell them apart; each matches exactly
# one list operation, so the overlap errors are silenced.


def next_token(page: Any, seen: set[str], max_pages: int) -> str | None:
    """The next page's token, or None on the last page.

    `seen` holds the tokens followed so far (one fewer than the pages fetched). A token seen before raises
    PageRepeatedError instead of looping; a next page beyond `max_pages` raises PageLimitError.
    """
    token = getattr(page, "next_page_token", UNSET)
    if not isinstance(token, str) or not token:
        return None
    if token in seen:
        raise PageRepeatedError("the list answered a page token it had already given; stopped instead of looping")
    if len(seen) + 1 >= max_pages:
        raise PageLimitError(max_pages)
    seen.add(token)
    return token


def _max_pages(kwargs: Mapping[str, Any]) -> int:
    """The page cap of the client an operation is called with."""
    return getattr(kwargs.get("client"), "max_pages", DEFAULT_MAX_PAGES)


def _checked(operation: Callable[..., Any], answer: object) -> Response[Any]:
    if not isinstance(answer, Response):
        name = getattr(operation, "__qualname__", repr(operation))
        raise TypeError(f"paginate needs a _detailed call style (one that answers a Response), not {name}")
    return answer


@overload
def paginate(  # type: ignore[overload-overlap]
    operation: Callable[P, Response[ListAPIKeysResponse | Error]], *args: P.args, **kwargs: P.kwargs
) -> Iterator[APIKey]: ...
@overload
def paginate(  # type: ignore[overload-overlap]
    operation: Callable[P, Response[ListWorkspacesResponse | Error]], *args: P.args, **kwargs: P.kwargs
) -> Iterator[Workspace]: ...
@overload
def paginate(  # type: ignore[overload-overlap]
    operation: Callable[P, Response[ListAPIKeyWorkspacesResponse | Error]], *args: P.args, **kwargs: P.kwargs
) -> Iterator[Workspace]: ...
@overload
def paginate(  # type: ignore[overload-overlap]
    operation: Callable[P, Response[ListServiceAccountsResponse | Error]], *args: P.args, **kwargs: P.kwargs
) -> Iterator[ServiceAccount]: ...
@overload
def paginate(
    operation: Callable[P, Response[ListServiceAccountCredentialsResponse | Error]], *args: P.args, **kwargs: P.kwargs
) -> Iterator[ServiceAccountCredential]: ...
def paginate(operation: Callable[P, Response[Any]], *args: P.args, **kwargs: P.kwargs) -> Iterator[Any]:
    """Every item of a list operation, fetching pages as needed: `paginate(list_api_keys.sync_detailed, client=c)`.

    Positional arguments (path parameters) and keyword filters (`include_revoked=True`, `expand=[...]`,
    `page_size=...`) are those of the operation and are passed to every page; `page_token` is where to
    start. An error status raises its typed exception. A list that repeats a page token raises
    `PageRepeatedError` instead of looping forever, and one that goes on past the client's `max_pages`
    (10,000 by default) raises `PageLimitError`.
    """
    start: str | Unset = kwargs.pop("page_token", UNSET)  # type: ignore[assignment]
    seen: set[str] = set()
    token, max_pages = start, _max_pages(kwargs)
    while True:
        page = unwrap(_checked(operation, operation(*args, page_token=token, **kwargs)))  # type: ignore[arg-type]
        yield from page.items
        following = next_token(page, seen, max_pages)
        if following is None:
            return
        token = following


@overload
def apaginate(  # type: ignore[overload-overlap]
    operation: Callable[P, Awaitable[Response[ListAPIKeysResponse | Error]]], *args: P.args, **kwargs: P.kwargs
) -> AsyncIterator[APIKey]: ...
@overload
def apaginate(  # type: ignore[overload-overlap]
    operation: Callable[P, Awaitable[Response[ListWorkspacesResponse | Error]]], *args: P.args, **kwargs: P.kwargs
) -> AsyncIterator[Workspace]: ...
@overload
def apaginate(  # type: ignore[overload-overlap]
    operation: Callable[P, Awaitable[Response[ListAPIKeyWorkspacesResponse | Error]]], *args: P.args, **kwargs: P.kwargs
) -> AsyncIterator[Workspace]: ...
@overload
def apaginate(  # type: ignore[overload-overlap]
    operation: Callable[P, Awaitable[Response[ListServiceAccountsResponse | Error]]], *args: P.args, **kwargs: P.kwargs
) -> AsyncIterator[ServiceAccount]: ...
@overload
def apaginate(
    operation: Callable[P, Awaitable[Response[ListServiceAccountCredentialsResponse | Error]]],
    *args: P.args,
    **kwargs: P.kwargs,
) -> AsyncIterator[ServiceAccountCredential]: ...
async def apaginate(
    operation: Callable[P, Awaitable[Response[Any]]], *args: P.args, **kwargs: P.kwargs
) -> AsyncIterator[Any]:
    """`paginate` for the asyncio styles: `async for key in apaginate(list_api_keys.asyncio_detailed, client=c)`."""
    start: str | Unset = kwargs.pop("page_token", UNSET)  # type: ignore[assignment]
    seen: set[str] = set()
    token, max_pages = start, _max_pages(kwargs)
    while True:
        page = unwrap(_checked(operation, await operation(*args, page_token=token, **kwargs)))  # type: ignore[arg-type]
        for item in page.items:
            yield item
        following = next_token(page, seen, max_pages)
        if following is None:
            return
        token = following
