"""Iterate over every item of a list operation, across pages, sync or async."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from ..models.error import Error
from ..types import UNSET, Response, Unset
from ._errors import unwrap

ItemT = TypeVar("ItemT", covariant=True)


class Page(Protocol[ItemT]):
    """What every list response of this API has: a page of items and, unless last, the next token."""

    @property
    def items(self) -> Sequence[ItemT]: ...

    @property
    def next_page_token(self) -> str | Unset: ...


def paginate(operation: Callable[..., Response[Page[ItemT] | Error]], /, *args: Any, **kwargs: Any) -> Iterator[ItemT]:
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


async def apaginate(
    operation: Callable[..., Awaitable[Response[Page[ItemT] | Error]]], /, *args: Any, **kwargs: Any
) -> AsyncIterator[ItemT]:
    """`paginate` for the asyncio styles: `async for key in apaginate(list_api_keys.asyncio_detailed, client=c)`."""
    token: str | Unset = kwargs.pop("page_token", UNSET)
    while True:
        page = unwrap(await operation(*args, page_token=token, **kwargs))
        for item in page.items:
            yield item
        if not page.next_page_token:
            return
        token = page.next_page_token
