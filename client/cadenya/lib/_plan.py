"""`RequestPlan`: what every request of one client through one HTTP client shares, worked out once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._http import HTTPLibrary, Timeout, library_of

if TYPE_CHECKING:
    from ._http import AsyncClientOfEither, ClientOfEither

__all__ = ["RequestPlan"]


class RequestPlan:
    """What every request of one client through one HTTP client shares, worked out once: its library, the
    client's headers and timeout in that library's terms, and where the paths go.

    A client keeps its plan while its timeout, its headers and the HTTP client stay the same objects
    (`current`), and makes a new one when any of them changes. The request itself is always made by the HTTP
    client's `build_request`, so its own headers, cookies, query parameters and base URL apply as they would
    to any request of it.
    """

    __slots__ = ("defaults", "http", "idempotency_key_set", "library", "longest_timeout", "prefix", "timeout")

    def __init__(
        self, http: ClientOfEither | AsyncClientOfEither, *, defaults: dict[str, str], timeout: Timeout, base_url: str
    ) -> None:
        self.http, self.defaults, self.timeout = http, defaults, timeout
        self.library: HTTPLibrary = library_of(http)
        self.idempotency_key_set = any(name.lower() == "idempotency-key" for name in defaults)
        # An HTTP client of yours without a base URL sends to the client's own.
        self.prefix = "" if str(http.base_url) else base_url.removesuffix("/")
        limits = [limit for limit in timeout.as_dict().values() if limit is not None]
        self.longest_timeout = max(limits) if len(limits) == 4 else None

    def current(self, http: object, *, defaults: dict[str, str], timeout: Timeout) -> bool:
        """Whether this plan is still the one for `http` with these headers and this timeout."""
        return self.http is http and self.timeout is timeout and self.defaults is defaults
