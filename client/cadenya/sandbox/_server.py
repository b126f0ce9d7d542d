"""How uvicorn serves the sandbox: bounded connections, and a deadline for each request's headers."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT = 10.0
"""Seconds a connection has to send a request's headers, from when it opens or its last answer ends."""

MAX_CONNECTIONS = 100
"""Open connections (or requests in flight) beyond which requests are answered 503 without being run."""

KEEP_ALIVE_TIMEOUT = 5.0
"""Seconds an idle connection is kept open after an answer."""


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose next request's headers have not all arrived in time.

    uvicorn starts a new request cycle when a request's headers are complete: until the cycle changes from
    the one current when the wait began, the headers have not arrived.
    """

    header_timeout = HEADER_TIMEOUT
    _header_timer: asyncio.TimerHandle | None = None
    _cycle_before: object = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not self._cycle_before:
            self._stop_waiting()

    def on_response_complete(self) -> None:
        self._await_headers()
        super().on_response_complete()

    def _await_headers(self) -> None:
        self._stop_waiting()
        if not self.transport.is_closing():
            self._cycle_before = self.cycle
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_timed_out)

    def _stop_waiting(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_timed_out(self) -> None:
        self._header_timer = None
        if self.cycle is self._cycle_before and not self.transport.is_closing():
            self.transport.close()


def protocol_with_header_timeout(seconds: float) -> type[HeaderTimeoutProtocol]:
    """The protocol class uvicorn builds for each connection, with this header deadline."""
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout": seconds})


def server_config(
    app: Any,
    *,
    host: str,
    port: int,
    header_timeout: float = HEADER_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
    log_level: str = "warning",
) -> uvicorn.Config:
    """The uvicorn configuration the sandbox serves with."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol_with_header_timeout(header_timeout),
        ws="none",
        limit_concurrency=max_connections,
        timeout_keep_alive=int(KEEP_ALIVE_TIMEOUT),
        log_level=log_level,
        access_log=log_level == "debug",
    )
