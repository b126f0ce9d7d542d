"""The HTTP clients (httpx or httpx2) behind a `Client`/`AuthenticatedClient` and every copy of it (`with_options`, ...).

The SDK makes its httpx clients when first needed and shares them between a client and its copies, so a
copy made before the first call still shares the connections. A client the SDK made is made again when it
was closed (after a `with` block) or, for the async one, when the event loop it belongs to is gone (two
`asyncio.run` calls). A client you give (`http_client=`, `set_httpx_client`) is yours: the SDK never closes
it, and using it after you closed it is a `ConfigurationError`, not a surprise connection. The clients the
SDK makes beside one you gave (the async one, next to your sync one) are of your client's library.

In a child made by `os.fork()` (gunicorn `--preload`, Celery's prefork pool, multiprocessing's fork start
method) the clients the SDK made in the parent are forgotten, never used or closed: their connections are the
parent's, and the child's first call opens its own. A client you set is yours to replace after a fork.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from ._config import check_http_client
from ._errors import ConfigurationError
from ._http import AsyncHTTPClient, HTTPClient, HTTPLibrary, default_library, is_async_client, library_for, library_of

if TYPE_CHECKING:
    import httpx


def _running_loop() -> object | None:
    # Without asyncio imported no asyncio loop can be running: importing it here would only cost time.
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    try:
        loop: object = asyncio.get_running_loop()
    except RuntimeError:  # not under asyncio (trio, or no loop at all)
        return None
    return loop


_pools: weakref.WeakSet[Pool] = weakref.WeakSet()
"""Every live pool of this process, so that a forked child can forget what it inherited."""


def _forget_inherited_clients() -> None:
    """Run in the child right after `os.fork()`, before any other code of it."""
    for pool in list(_pools):
        pool.forget_inherited_clients()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_forget_inherited_clients)


class Pool:
    """One sync and one async client, made on demand; shared by reference between client copies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sync: httpx.Client | None = None
        self._sync_owned = True
        self._async: httpx.AsyncClient | None = None
        self._async_owned = True
        self._async_loop: object | None = None
        self._given_kind: str | None = None
        """"a Client" or "an AsyncClient" when one was given as http_client=: the other kind is then not made."""
        _pools.add(self)

    def forget_inherited_clients(self) -> None:
        """After a fork: drop the httpx clients the SDK made in the parent, without closing them (closing would
        end the parent's connections too, an HTTP/2 one with a GOAWAY), and take a new lock, since the parent's
        may have been held by one of its other threads."""
        self._lock = threading.Lock()
        if self._sync_owned:
            self._sync = None
        if self._async_owned:
            self._async, self._async_loop = None, None

    def for_another_credential(self) -> Pool:
        """The pool of a copy that sends another token or other cookies: the httpx clients you set are shared
        as given; those the SDK makes are not, so neither connections nor a cookie jar cross credentials."""
        pool = Pool()
        pool._given_kind = self._given_kind
        if not self._sync_owned:
            pool._sync, pool._sync_owned = self._sync, False
        if not self._async_owned:
            pool._async, pool._async_owned = self._async, False
        return pool

    def library(self, httpx_args: Mapping[str, Any]) -> HTTPLibrary:
        """The library of the clients the SDK makes: that of a client you gave, else that of a transport in
        `httpx_args`, else the default."""
        for given, owned in ((self._sync, self._sync_owned), (self._async, self._async_owned)):
            if given is not None and not owned:
                return library_of(given)
        return library_for(httpx_args) or default_library()

    def give(self, client: HTTPClient | AsyncHTTPClient) -> None:
        """Take the client given as `http_client=`: the SDK then makes no client of the other kind, which would
        have none of its transport, proxies, certificates or hooks; calls of that kind are refused, naming the fix."""
        if is_async_client(client):
            self.set_async(cast("AsyncHTTPClient", client))
            self._given_kind = "an AsyncClient"
        else:
            self.set_sync(cast("HTTPClient", client))
            self._given_kind = "a Client"

    def _refuse_the_other_kind(self, wanted: str) -> None:
        if self._given_kind is not None and self._given_kind != wanted:
            setter = "set_httpx_client" if wanted == "a Client" else "set_async_httpx_client"
            raise ConfigurationError(
                f"this client was given {self._given_kind} as http_client=, and makes no {wanted[2:].strip()} of"
                f" its own without your transport, proxies and certificates: give it {wanted} too, with {setter}()"
            )

    def set_sync(self, client: HTTPClient) -> None:
        library = library_of(client)
        if not isinstance(client, library.Client):
            raise ConfigurationError(f"expected a {library.name}.Client, not {type(client).__qualname__}")
        check_http_client(library, client)
        self._sync, self._sync_owned = client, False

    def set_async(self, client: AsyncHTTPClient) -> None:
        library = library_of(client)
        if not isinstance(client, library.AsyncClient):
            raise ConfigurationError(f"expected a {library.name}.AsyncClient, not {type(client).__qualname__}")
        check_http_client(library, client)
        self._async, self._async_owned = client, False

    def close_sync(self) -> None:
        """Close the sync client if the SDK made it (a later call makes a new one); one you gave stays open."""
        client = self._sync
        if client is not None and self._sync_owned:
            client.close()

    async def close_async(self) -> None:
        """`close_sync`, for the async client."""
        client = self._async
        if client is not None and self._async_owned:
            await client.aclose()

    def sync(self, make: Callable[[], httpx.Client]) -> httpx.Client:
        client = self._sync
        if client is not None and not client.is_closed:
            return client
        with self._lock:
            if self._sync is None or self._sync.is_closed:
                if self._sync is not None and not self._sync_owned:
                    raise ConfigurationError("the Client you gave the SDK (http_client=) is closed")
                self._refuse_the_other_kind("a Client")
                self._sync = make()
            return self._sync

    def async_(self, make: Callable[[], httpx.AsyncClient]) -> httpx.AsyncClient:
        client, loop = self._async, _running_loop()
        if client is not None and not client.is_closed and (not self._async_owned or self._async_loop is loop):
            return client
        with self._lock:
            current = self._async
            if current is not None and not self._async_owned:
                if current.is_closed:
                    raise ConfigurationError("the AsyncClient you gave the SDK (http_client=) is closed")
                return current
            if current is None or current.is_closed or self._async_loop is not loop:
                self._refuse_the_other_kind("an AsyncClient")
                # A client of a finished event loop cannot be closed from this one; its sockets died with it.
                current = make()
                self._async, self._async_loop = current, loop
            return current

    def existing_sync(self) -> httpx.Client | None:
        return self._sync

    def existing_async(self) -> httpx.AsyncClient | None:
        return self._async
