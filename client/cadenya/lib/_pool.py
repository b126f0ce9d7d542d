"""The httpx clients behind a `Client`/`AuthenticatedClient` and every copy of it (`with_options`, ...).

The SDK makes its httpx clients when first needed and shares them between a client and its copies, so a
copy made before the first call still shares the connections. A client the SDK made is made again when it
was closed (after a `with` block) or, for the async one, when the event loop it belongs to is gone (two
`asyncio.run` calls); a client you set with `set_httpx_client` is yours: using it after closing it is a
`ConfigurationError`, not a surprise connection.

In a child made by `os.fork()` (gunicorn `--preload`, Celery's prefork pool, multiprocessing's fork start
method) the clients the SDK made in the parent are forgotten, never used or closed: their connections are the
parent's, and the child's first call opens its own. A client you set is yours to replace after a fork.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from collections.abc import Callable

import httpx

from ._config import check_httpx_client
from ._errors import ConfigurationError


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
    """One sync and one async httpx client, made on demand; shared by reference between client copies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sync: httpx.Client | None = None
        self._sync_owned = True
        self._async: httpx.AsyncClient | None = None
        self._async_owned = True
        self._async_loop: object | None = None
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
        if not self._sync_owned:
            pool._sync, pool._sync_owned = self._sync, False
        if not self._async_owned:
            pool._async, pool._async_owned = self._async, False
        return pool

    def set_sync(self, client: httpx.Client) -> None:
        check_httpx_client(client)
        self._sync, self._sync_owned = client, False

    def set_async(self, client: httpx.AsyncClient) -> None:
        check_httpx_client(client)
        self._async, self._async_owned = client, False

    def sync(self, make: Callable[[], httpx.Client]) -> httpx.Client:
        client = self._sync
        if client is not None and not client.is_closed:
            return client
        with self._lock:
            if self._sync is None or self._sync.is_closed:
                if self._sync is not None and not self._sync_owned:
                    raise ConfigurationError("the httpx.Client given to set_httpx_client is closed")
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
                    raise ConfigurationError("the httpx.AsyncClient given to set_async_httpx_client is closed")
                return current
            if current is None or current.is_closed or self._async_loop is not loop:
                # A client of a finished event loop cannot be closed from this one; its sockets died with it.
                current = make()
                self._async, self._async_loop = current, loop
            return current

    def existing_sync(self) -> httpx.Client | None:
        return self._sync

    def existing_async(self) -> httpx.AsyncClient | None:
        return self._async
