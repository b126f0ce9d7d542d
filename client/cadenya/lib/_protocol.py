"""`SendingClient`: what the send path (`_send`) needs of a client, so that it depends on no client class."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ._http import AsyncClientOfEither, ClientOfEither, Timeout
    from ._plan import RequestPlan

__all__ = ["SendingClient"]


class SendingClient(Protocol):
    """A client as `send`, `send_async` and `build_response` use it: `AuthenticatedClient` is one."""

    @property
    def timeout(self) -> Timeout:
        """Each attempt's timeout."""
        ...

    @property
    def max_retries(self) -> int:
        """Retries of a failed attempt; 0 turns retries off."""
        ...

    @property
    def deadline(self) -> float | None:
        """Seconds the whole call may take, or None."""
        ...

    @property
    def max_response_bytes(self) -> int:
        """The largest answer body read."""
        ...

    @property
    def follow_redirects(self) -> bool:
        """Whether redirects are followed (the HTTP client's own setting counts too)."""
        ...

    @property
    def auth_header_name(self) -> str:
        """The header of the credential, dropped on a redirect to another origin."""
        ...

    def get_httpx_client(self) -> ClientOfEither:
        """The HTTP client of the sync call styles."""
        ...

    def get_async_httpx_client(self) -> AsyncClientOfEither:
        """The HTTP client of the async call styles."""
        ...

    def request_plan(self, http: ClientOfEither | AsyncClientOfEither) -> RequestPlan:
        """What every request through `http` shares, for as long as it stays the same."""
        ...
