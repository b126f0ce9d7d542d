"""`AuthenticatedClient`, the client every operation function takes (`cadenya.client` re-exports it): its
options, checked when it is made, its connection pool, and its copies with other options."""

import ssl
from typing import TYPE_CHECKING, Any, Self

from attrs import define, evolve, field

from ._config import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    api_key_from_env,
    base_url_from_env,
    check_base_url,
    check_deadline,
    check_header_name,
    check_headers,
    check_http2_option,
    check_httpx_args,
    check_max_pages,
    check_max_response_bytes,
    check_max_retries,
    check_options_and_httpx_args,
    check_options_beside_http_client,
    check_token,
    default_headers,
    timeout_option,
    verify_option,
)
from ._http import (
    AsyncClientOfEither,
    AsyncHTTPClient,
    CertTypes,
    ClientOfEither,
    HTTPClient,
    HTTPLibrary,
    Limits,
    Timeout,
    client_arguments,
    tls_option,
)
from ._plan import RequestPlan
from ._pool import Pool
from ._send import configure_logging
from ._types import UNSET, Unset

if TYPE_CHECKING:
    import httpx


@define(repr=False, kw_only=True)
class AuthenticatedClient:
    """A client that sends an API key: `AuthenticatedClient(token="cad_key_...")`, or with $CADENYA_API_KEY set, `AuthenticatedClient()`.

    Keyword arguments only: token, prefix, auth_header_name, base_url, cookies, headers, timeout, max_retries,
    deadline, max_response_bytes, max_pages, http_client (your own Client or AsyncClient of httpx or httpx2),
    verify (or verify_ssl), cert, proxy, limits, http2, trust_env, follow_redirects, raise_on_unexpected_status,
    and httpx_args (other arguments of the Client / AsyncClient the SDK makes; one the client has an option
    for, or one the library does not take, is a ConfigurationError at once). A base URL without a scheme, an
    empty token or one with spaces or line breaks is refused at once (ConfigurationError), before any
    request, without repeating the value.
    """

    __module__ = "cadenya.client"

    raise_on_unexpected_status: bool = field(default=False)
    """Raise errors.UnexpectedStatus for a status the spec does not document, instead of parsed=None."""
    _base_url: str = field(factory=base_url_from_env, alias="base_url", validator=check_base_url)
    """Defaults to $CADENYA_BASE_URL, then to the production API."""
    token: str = field(factory=api_key_from_env, validator=check_token)
    """The API key; defaults to $CADENYA_API_KEY. Never shown by repr() or str()."""
    prefix: str = field(default="Bearer", validator=check_header_name)
    auth_header_name: str = field(default="Authorization", validator=check_header_name)
    _cookies: dict[str, str] = field(factory=dict, alias="cookies")
    _headers: dict[str, str] = field(factory=dict, alias="headers", validator=check_headers)
    timeout: Timeout = field(default=DEFAULT_TIMEOUT, converter=timeout_option)
    """Per attempt: 60 s to read, 5 s to connect unless given. Change it per call with with_options()."""
    max_retries: int = field(default=DEFAULT_MAX_RETRIES, validator=check_max_retries)
    """Retries of a failed connection, a timeout or a 408/429/5xx answer; 0 turns retries off."""
    deadline: float | None = field(default=DEFAULT_DEADLINE, validator=check_deadline)
    """Seconds a whole call may take, every attempt and wait included (120 s); None for no deadline."""
    max_response_bytes: int = field(default=DEFAULT_MAX_RESPONSE_BYTES, validator=check_max_response_bytes)
    """The largest answer body read, decompressed (32 MiB); a larger one is a ResponseTooLargeError."""
    max_pages: int = field(default=DEFAULT_MAX_PAGES, validator=check_max_pages)
    """The most pages one iteration over a list fetches (10,000); a list that goes on is a PageLimitError."""
    _http_client: HTTPClient | AsyncHTTPClient | None = field(default=None, alias="http_client")
    """A Client or AsyncClient of httpx or httpx2 you made, used as given and never closed by the SDK."""
    _verify: str | bool | ssl.SSLContext = field(default=True, alias="verify")
    """True (the library's CA store), False, a CA bundle (a file or directory) or an ssl.SSLContext."""
    _verify_ssl: str | bool | ssl.SSLContext | None = field(default=None, alias="verify_ssl")
    """The generated client's name for `verify`."""
    _cert: CertTypes | None = field(default=None, alias="cert")
    """A client certificate: a file with it and its key, (certificate, key) or (certificate, key, password)."""
    _proxy: str | None = field(default=None, alias="proxy")
    """A proxy URL for every request; without it, the HTTP(S)_PROXY environment variables apply (trust_env)."""
    _limits: Limits | None = field(default=None, alias="limits")
    """The connection pool's limits (a Limits of httpx or httpx2)."""
    _http2: bool = field(default=False, alias="http2", validator=check_http2_option)
    """Speak HTTP/2 where the server does; needs `pip install 'cadenya[http2]'`."""
    _trust_env: bool = field(default=True, alias="trust_env")
    """Read proxies, NO_PROXY and SSL_CERT_FILE from the environment; False ignores them."""
    _follow_redirects: bool = field(default=False, alias="follow_redirects")
    _httpx_args: dict[str, Any] = field(factory=dict, alias="httpx_args", validator=check_httpx_args)
    _tls: Any = field(default=None, init=False)
    _pool: Pool = field(factory=Pool, init=False)
    _default_headers: dict[str, str] | None = field(default=None, init=False)
    _request_plan: RequestPlan | None = field(default=None, init=False)

    def __attrs_post_init__(self) -> None:
        configure_logging()
        self._verify = verify_option(self._verify, self._verify_ssl)
        check_options_beside_http_client(
            self._http_client,
            {
                "proxy": self._proxy is not None,
                "verify": self._verify is not True,
                "cert": self._cert is not None,
                "limits": self._limits is not None,
                "http2": self._http2,
                "trust_env": not self._trust_env,
                "httpx_args": bool(self._httpx_args),
            },
        )
        check_options_and_httpx_args(
            self._httpx_args,
            {
                "cert": self._cert is not None,
                "proxy": self._proxy is not None,
                "limits": self._limits is not None,
                "http2": self._http2,
                "trust_env": not self._trust_env,
            },
        )
        self._tls = tls_option(self._verify, self._cert, self._trust_env)
        if self._http_client is not None:
            self._pool.give(self._http_client)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r}, timeout={self.timeout!r}, max_retries={self.max_retries})"

    __str__ = __repr__

    @property
    def base_url(self) -> str:
        """The API's URL, which every path is appended to (unless an http_client of yours has its own)."""
        return self._base_url

    @property
    def follow_redirects(self) -> bool:
        """Whether redirects are followed (the SDK follows them, dropping the credential on another host)."""
        return self._follow_redirects

    def default_headers(self) -> dict[str, str]:
        """The headers of every request: the User-Agent, the client's own and the credential."""
        if self._default_headers is None:
            self._default_headers = default_headers(self.token, self.prefix, self.auth_header_name, self._headers)
        return self._default_headers

    def request_plan(self, http: ClientOfEither | AsyncClientOfEither) -> RequestPlan:
        """What every request of this client through `http` shares (its headers, its timeout in that library's
        terms, where the paths go), worked out once and kept while they stay the same."""
        defaults = self.default_headers()
        plan = self._request_plan
        if plan is None or not plan.current(http, defaults=defaults, timeout=self.timeout):
            plan = self._request_plan = RequestPlan(
                http, defaults=defaults, timeout=self.timeout, base_url=self._base_url
            )
        return plan

    def _evolve(self, **changes: Any) -> Self:
        copy = evolve(self, **changes)
        another_credential = "token" in changes or "cookies" in changes
        copy._pool = self._pool.for_another_credential() if another_credential else self._pool
        return copy

    def with_options(
        self,
        *,
        token: str | Unset = UNSET,
        timeout: Timeout | float | Unset | None = UNSET,
        max_retries: int | Unset = UNSET,
        deadline: float | Unset | None = UNSET,
        max_response_bytes: int | Unset = UNSET,
        max_pages: int | Unset = UNSET,
    ) -> Self:
        """A copy with another token (after rotating your own key, say), timeout, retry budget, deadline or
        body limit (e.g. for one call).

        A copy with the same token shares this client's connections. One with another token has its own
        connections and cookie jar, so nothing a server set for one credential is sent with the other (an
        httpx client you gave with set_httpx_client is still used as given).

        An option left out keeps this client's value; `None` means what it means to the constructor
        (`deadline=None`: no deadline; `timeout=None`: the default timeout)."""
        changes: dict[str, Any] = {
            "token": token,
            "timeout": timeout,
            "max_retries": max_retries,
            "deadline": deadline,
            "max_response_bytes": max_response_bytes,
            "max_pages": max_pages,
        }
        return self._evolve(**{name: value for name, value in changes.items() if not isinstance(value, Unset)})

    def with_headers(self, headers: dict[str, str]) -> Self:
        """A client sharing this one's connections, sending additional headers."""
        return self._evolve(headers={**self._headers, **headers})

    def with_cookies(self, cookies: dict[str, str]) -> Self:
        """A copy sending additional cookies, with its own connections and cookie jar."""
        return self._evolve(cookies={**self._cookies, **cookies})

    def with_timeout(self, timeout: Timeout) -> Self:
        """A client sharing this one's connections, with another timeout."""
        return self.with_options(timeout=timeout)

    def set_httpx_client(self, client: HTTPClient) -> Self:
        """Use your own Client of httpx or httpx2 (as `http_client=` does): it is used as given, with its
        transport, proxies, certificates, limits and event hooks, and never closed by the SDK.

        The SDK's headers, timeout, retries, idempotency keys and logging still apply: they are added
        per request, not baked into the client. A client without a base_url sends to this one's.
        """
        self._pool.set_sync(client)
        return self

    def _client_arguments(self, library: HTTPLibrary) -> dict[str, Any]:
        return client_arguments(
            library,
            base_url=self._base_url,
            cookies=self._cookies,
            timeout=self.timeout,
            verify=self._tls,
            proxy=self._proxy,
            limits=self._limits,
            http2=self._http2,
            trust_env=self._trust_env,
            follow_redirects=self._follow_redirects,
            extra=self._httpx_args,
        )

    def _make_httpx_client(self) -> "httpx.Client":
        library = self._pool.library(self._httpx_args)
        return library.Client(**self._client_arguments(library))

    def get_httpx_client(self) -> ClientOfEither:
        """The underlying Client (httpx's or httpx2's): made when first needed, and again if it was closed."""
        return self._pool.sync(self._make_httpx_client)

    def __enter__(self) -> Self:
        """Enter a context manager; leaving it closes the connections the SDK opened (not a client of yours)."""
        self.get_httpx_client()
        return self

    def __exit__(self, *args: Any, **kwargs: Any) -> None:
        """Close the Client the SDK made (a later call opens a new one); one you gave stays open."""
        self._pool.close_sync()

    def set_async_httpx_client(self, async_client: AsyncHTTPClient) -> Self:
        """Use your own AsyncClient of httpx or httpx2; as set_httpx_client, the SDK's behaviour still applies."""
        self._pool.set_async(async_client)
        return self

    def _make_async_httpx_client(self) -> "httpx.AsyncClient":
        library = self._pool.library(self._httpx_args)
        return library.AsyncClient(**self._client_arguments(library))

    def get_async_httpx_client(self) -> AsyncClientOfEither:
        """The underlying AsyncClient: made when first needed, and again if closed or its event loop ended."""
        return self._pool.async_(self._make_async_httpx_client)

    async def __aenter__(self) -> Self:
        """Enter an async context manager; leaving it closes the connections the SDK opened."""
        self.get_async_httpx_client()
        return self

    async def __aexit__(self, *args: Any, **kwargs: Any) -> None:
        """Close the AsyncClient the SDK made (a later call opens a new one); one you gave stays open."""
        await self._pool.close_async()
