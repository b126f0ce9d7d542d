"""What the generated resource clients (`Cadenya`, `AsyncCadenya`, `cadenya.resources`) stand on.

A resource method builds its request with the operation module's own `_get_kwargs`, adds the caller's
per-call options, sends it through the one send path every call style uses (`send` / `send_async`) and
parses it with the module's `_build_response`. So a resource call is the function call plus a few
attribute lookups, and both layers behave the same way: retries, timeouts, idempotency keys, logging.

The generated methods only state their signatures, build the request body (`request_body`) and hand the
request to their class's base here: `SyncAPIResource` / `AsyncAPIResource` for the plain methods and the
`*WithRawResponse` ones alike, so a plain method never goes through its raw twin, and checks its body once.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar

from ..client import AuthenticatedClient
from ..types import UNSET, Response, Unset
from ._config import DEFAULT_MAX_PAGES
from ._errors import ConfigurationError, unwrap
from ._http import AsyncHTTPClient, CertTypes, HTTPClient, HTTPResponse, Limits, is_async_client
from ._http import Timeout as HTTPTimeout
from ._pagination import next_token
from ._send import send, send_async

if TYPE_CHECKING:
    from ..models.error import Error

T = TypeVar("T")
ItemT = TypeVar("ItemT")
ModelT = TypeVar("ModelT")

Timeout = HTTPTimeout | float | None


def with_extras(
    kwargs: dict[str, Any],
    extra_headers: Mapping[str, str] | None,
    extra_query: Mapping[str, Any] | None,
    extra_body: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The generated request `kwargs` with the caller's extra headers, query parameters and body fields.

    They reach what this version of the SDK does not know yet (a parameter a later API added); the caller's
    values win over the generated ones.
    """
    if extra_headers:
        kwargs["headers"] = {**kwargs.get("headers", {}), **extra_headers}
    if extra_query:
        kwargs["params"] = {**kwargs.get("params", {}), **extra_query}
    if extra_body:
        if "json" not in kwargs:
            raise TypeError(f"extra_body: {kwargs['method'].upper()} {kwargs['url']} sends no JSON body")
        kwargs["json"] = {**kwargs["json"], **extra_body}
    return kwargs


def request_body(
    method: str, model: type[ModelT], body: ModelT | Unset, required: tuple[str, ...] = (), **fields: Any
) -> ModelT:
    """The request body of a resource call, given either whole (`body=`) or as its fields (keywords).

    `fields` are the body model's fields as the caller passed them (UNSET when left out), `required` the
    ones the model cannot do without. A `TypeError` names what is missing, or says that both forms were given.
    """
    if isinstance(body, Unset):
        for name in required:
            if isinstance(fields[name], Unset):
                raise TypeError(f"{method}() needs {name}=..., or body={model.__name__}(...)")
        return model(**fields)
    if not all(isinstance(value, Unset) for value in fields.values()):
        raise TypeError(f"{method}(): pass body= or its fields as keywords, not both")
    return body


class Operation(Protocol[T]):
    """What a resource reads of an operation module (`cadenya.api.api_keys.get_api_key`)."""

    @property
    def _NO_CONTENT(self) -> tuple[int, ...]: ...  # the module's constant

    def _build_response(self, *, client: AuthenticatedClient, response: HTTPResponse) -> Response[T]: ...


class _ClientHolder:
    """The part both resource clients share: the `AuthenticatedClient` beneath and per-call options."""

    _resources: tuple[str, ...] = ()
    """The names of the resources (generated), each made on first use and kept in the instance's __dict__."""
    _asynchronous = False

    def __init__(
        self,
        *,
        token: str | Unset = UNSET,
        base_url: str | Unset = UNSET,
        timeout: Timeout | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        deadline: float | Unset | None = UNSET,
        max_response_bytes: int | Unset = UNSET,
        max_pages: int | Unset = UNSET,
        headers: Mapping[str, str] | None = None,
        http_client: HTTPClient | AsyncHTTPClient | None = None,
        proxy: str | None = None,
        verify: str | bool | ssl.SSLContext | Unset = UNSET,
        cert: CertTypes | None = None,
        limits: Limits | None = None,
        http2: bool | Unset = UNSET,
        trust_env: bool | Unset = UNSET,
        httpx_args: Mapping[str, Any] | None = None,
        client: AuthenticatedClient | None = None,
    ) -> None:
        """Build the `AuthenticatedClient` beneath from these options (the same as its own), or wrap `client`.

        An option left out takes the `AuthenticatedClient` default: `token` from $CADENYA_API_KEY, `base_url`
        from $CADENYA_BASE_URL. `deadline=None` means no deadline, so `UNSET`, not `None`, marks "left out".
        `http_client` is a Client (for `Cadenya`) or an AsyncClient (for `AsyncCadenya`) of httpx or httpx2.
        """
        options: dict[str, Any] = {
            "token": token,
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": max_retries,
            "deadline": deadline,
            "max_response_bytes": max_response_bytes,
            "max_pages": max_pages,
            "verify": verify,
            "http2": http2,
            "trust_env": trust_env,
        }
        given = {name: value for name, value in options.items() if not isinstance(value, Unset)}
        given.update(
            (name, value)
            for name, value in (
                ("http_client", http_client),
                ("proxy", proxy),
                ("cert", cert),
                ("limits", limits),
                ("httpx_args", httpx_args),
                ("headers", headers),
            )
            if value is not None
        )
        if client is not None:
            if given:
                raise TypeError(f"pass client=, or {', '.join(sorted(given))} to build one, not both")
        else:
            if http_client is not None and is_async_client(http_client) is not self._asynchronous:
                wanted = "an AsyncClient" if self._asynchronous else "a Client"
                raise ConfigurationError(f"{type(self).__name__}(http_client=...) takes {wanted} of httpx or httpx2")
            given["headers"] = dict(headers or {})
            given["httpx_args"] = dict(httpx_args or {})
            client = AuthenticatedClient(**given)
        self._client = client

    @property
    def client(self) -> AuthenticatedClient:
        """The client beneath, for the per-operation functions: `get_api_key.sync(id, client=c.client)`."""
        return self._client

    def __repr__(self) -> str:
        return f"{type(self).__name__}(client={self._client!r})"

    def _for_call(self, timeout: Timeout | Unset, max_retries: int | None) -> AuthenticatedClient:
        """The client for one call: this one, or a copy with the call's timeout or retry budget."""
        if isinstance(timeout, Unset) and max_retries is None:
            return self._client
        return self._client.with_options(timeout=timeout, max_retries=UNSET if max_retries is None else max_retries)

    def with_options(
        self,
        *,
        token: str | Unset = UNSET,
        timeout: Timeout | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        deadline: float | Unset | None = UNSET,
        max_response_bytes: int | Unset = UNSET,
        max_pages: int | Unset = UNSET,
    ) -> Self:
        """A copy with another token, timeout, retry budget, deadline, body limit or page cap; an option left
        out keeps this client's value. With the same token it shares this client's connections."""
        copy = object.__new__(type(self))
        # The resources made so far are bound to this client: the copy makes its own when first used.
        copy.__dict__.update((name, value) for name, value in self.__dict__.items() if name not in self._resources)
        copy._client = self._client.with_options(
            token=token,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
            max_pages=max_pages,
        )
        return copy


class SyncAPIResource:
    """The base of every sync resource class: sends a built request through the client's send path."""

    def __init__(self, holder: _ClientHolder) -> None:
        self._holder = holder

    def _request(
        self,
        operation: Operation[T],
        kwargs: dict[str, Any],
        timeout: Timeout | Unset,
        max_retries: int | None,
        extra_headers: Mapping[str, str] | None,
        extra_query: Mapping[str, Any] | None,
        extra_body: Mapping[str, Any] | None,
    ) -> Response[T]:
        """The whole `Response` of one call: what a `*WithRawResponse` method answers."""
        client = self._holder._for_call(timeout, max_retries)
        kwargs = with_extras(kwargs, extra_headers, extra_query, extra_body)
        return operation._build_response(client=client, response=send(client, kwargs))

    def _call(
        self,
        operation: Operation[T | Error],
        kwargs: dict[str, Any],
        timeout: Timeout | Unset,
        max_retries: int | None,
        extra_headers: Mapping[str, str] | None,
        extra_query: Mapping[str, Any] | None,
        extra_body: Mapping[str, Any] | None,
    ) -> T:
        """The success model of one call, or the typed exception of its error status."""
        response = self._request(operation, kwargs, timeout, max_retries, extra_headers, extra_query, extra_body)
        return unwrap(response, no_content=operation._NO_CONTENT)

    def _page(
        self,
        operation: Operation[Any],
        kwargs: Callable[[str | Unset], dict[str, Any]],
        page_token: str | Unset,
        timeout: Timeout | Unset,
        max_retries: int | None,
        extra_headers: Mapping[str, str] | None,
        extra_query: Mapping[str, Any] | None,
        extra_body: Mapping[str, Any] | None,
    ) -> SyncPage[Any]:
        """The first page of a list, fetched from `page_token`; `kwargs(token)` builds the request of a page."""

        def fetch(token: str | Unset) -> Any:
            options = (timeout, max_retries, extra_headers, extra_query, extra_body)
            return self._call(operation, kwargs(token), *options)

        return SyncPage(fetch(page_token), fetch, max_pages=self._holder.client.max_pages)


class AsyncAPIResource:
    """`SyncAPIResource` for asyncio."""

    def __init__(self, holder: _ClientHolder) -> None:
        self._holder = holder

    async def _request(
        self,
        operation: Operation[T],
        kwargs: dict[str, Any],
        timeout: Timeout | Unset,
        max_retries: int | None,
        extra_headers: Mapping[str, str] | None,
        extra_query: Mapping[str, Any] | None,
        extra_body: Mapping[str, Any] | None,
    ) -> Response[T]:
        """The whole `Response` of one call: what a `*WithRawResponse` method answers."""
        client = self._holder._for_call(timeout, max_retries)
        kwargs = with_extras(kwargs, extra_headers, extra_query, extra_body)
        return operation._build_response(client=client, response=await send_async(client, kwargs))

    async def _call(
        self,
        operation: Operation[T | Error],
        kwargs: dict[str, Any],
        timeout: Timeout | Unset,
        max_retries: int | None,
        extra_headers: Mapping[str, str] | None,
        extra_query: Mapping[str, Any] | None,
        extra_body: Mapping[str, Any] | None,
    ) -> T:
        """The success model of one call, or the typed exception of its error status."""
        response = await self._request(operation, kwargs, timeout, max_retries, extra_headers, extra_query, extra_body)
        return unwrap(response, no_content=operation._NO_CONTENT)

    def _page(
        self,
        operation: Operation[Any],
        kwargs: Callable[[str | Unset], dict[str, Any]],
        page_token: str | Unset,
        timeout: Timeout | Unset,
        max_retries: int | None,
        extra_headers: Mapping[str, str] | None,
        extra_query: Mapping[str, Any] | None,
        extra_body: Mapping[str, Any] | None,
    ) -> AsyncPager[Any]:
        """An `AsyncPager` over a list from `page_token`; `kwargs(token)` builds the request of a page."""

        async def fetch(token: str | Unset) -> Any:
            options = (timeout, max_retries, extra_headers, extra_query, extra_body)
            return await self._call(operation, kwargs(token), *options)

        async def first() -> AsyncPage[Any]:
            return AsyncPage(await fetch(page_token), fetch, max_pages=self._holder.client.max_pages)

        return AsyncPager(first)


class SyncClientBase(_ClientHolder):
    """`Cadenya`'s base: the resources of the API over one `AuthenticatedClient` and its connection pool."""

    _asynchronous = False

    def close(self) -> None:
        """Close the connections the SDK opened; an http_client you gave stays open, yours to close."""
        self._client.__exit__(None, None, None)

    def __enter__(self) -> Self:
        self._client.__enter__()
        return self

    def __exit__(self, *args: object) -> None:
        self._client.__exit__(*args)


class AsyncClientBase(_ClientHolder):
    """`AsyncCadenya`'s base: as `SyncClientBase`, for asyncio (any anyio backend)."""

    _asynchronous = True

    async def close(self) -> None:
        """Close the connections the SDK opened; an http_client you gave stays open, yours to close."""
        await self._client.__aexit__(None, None, None)

    async def __aenter__(self) -> Self:
        await self._client.__aenter__()
        return self

    async def __aexit__(self, *args: object) -> None:
        await self._client.__aexit__(*args)


def _next_token(page: Any) -> str | None:
    """The token of the page after `page` alone: no limit applies to one step."""
    return next_token(page, set(), 2)


class SyncPage(Generic[ItemT]):
    """One page of a list, fetched; iterating it goes on through every later page.

    `items` is this page alone, `next_page_token` the token of the next one (None on the last page),
    `get_next_page()` fetches it. `for item in page` yields every item from this page to the end.
    `_request_id` is the `X-Request-Id` of the answer that brought this page.
    """

    def __init__(self, answer: Any, fetch: Callable[[str], Any], *, max_pages: int = DEFAULT_MAX_PAGES) -> None:
        self._answer, self._fetch, self._max_pages = answer, fetch, max_pages
        self.items: list[ItemT] = answer.items
        self.next_page_token: str | None = _next_token(answer)
        self._request_id: str | None = getattr(answer, "_request_id", None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(items={len(self.items)}, next_page_token={self.next_page_token!r})"

    def has_next_page(self) -> bool:
        return self.next_page_token is not None

    def get_next_page(self) -> SyncPage[ItemT]:
        """The next page, fetched; a `ValueError` on the last page."""
        if self.next_page_token is None:
            raise ValueError("this is the last page")
        return SyncPage(self._fetch(self.next_page_token), self._fetch, max_pages=self._max_pages)

    def iter_pages(self) -> Iterator[SyncPage[ItemT]]:
        """This page and every later one; a list that repeats a token raises PageRepeatedError, one that goes
        on past the client's max_pages (counted from this page) PageLimitError."""
        page: SyncPage[ItemT] = self
        seen: set[str] = set()
        while True:
            yield page
            if next_token(page._answer, seen, self._max_pages) is None:
                return
            page = page.get_next_page()

    def __iter__(self) -> Iterator[ItemT]:
        for page in self.iter_pages():
            yield from page.items


class AsyncPage(Generic[ItemT]):
    """`SyncPage` for asyncio: `await page.get_next_page()`, `async for item in page`."""

    def __init__(
        self, answer: Any, fetch: Callable[[str], Awaitable[Any]], *, max_pages: int = DEFAULT_MAX_PAGES
    ) -> None:
        self._answer, self._fetch, self._max_pages = answer, fetch, max_pages
        self.items: list[ItemT] = answer.items
        self.next_page_token: str | None = _next_token(answer)
        self._request_id: str | None = getattr(answer, "_request_id", None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(items={len(self.items)}, next_page_token={self.next_page_token!r})"

    def has_next_page(self) -> bool:
        return self.next_page_token is not None

    async def get_next_page(self) -> AsyncPage[ItemT]:
        if self.next_page_token is None:
            raise ValueError("this is the last page")
        return AsyncPage(await self._fetch(self.next_page_token), self._fetch, max_pages=self._max_pages)

    async def iter_pages(self) -> AsyncIterator[AsyncPage[ItemT]]:
        """This page and every later one; a list that repeats a token raises PageRepeatedError, one that goes
        on past the client's max_pages (counted from this page) PageLimitError."""
        page: AsyncPage[ItemT] = self
        seen: set[str] = set()
        while True:
            yield page
            if next_token(page._answer, seen, self._max_pages) is None:
                return
            page = await page.get_next_page()

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        async for page in self.iter_pages():
            for item in page.items:
                yield item


class AsyncPager(Generic[ItemT]):
    """What an async list method returns: `await` it for the first page, or `async for` every item."""

    def __init__(self, first: Callable[[], Awaitable[AsyncPage[ItemT]]]) -> None:
        self._first = first

    def __await__(self) -> Generator[Any, None, AsyncPage[ItemT]]:
        return self._first().__await__()

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        page = await self._first()
        async for item in page:
            yield item
