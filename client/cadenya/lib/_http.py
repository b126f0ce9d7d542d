"""The one module that names the HTTP library: httpx, the default, or httpx2, its maintained continuation.

Everything else in the SDK reaches the library through an `HTTPLibrary`: `default_library()` for the
clients the SDK makes, `library_of(client)` for one you give (`http_client=`), so a call sent through an
httpx2 client builds httpx2 requests and catches httpx2 errors even where httpx is installed too.

Which library is the default: `$CADENYA_HTTP_LIBRARY` (`httpx` or `httpx2`) when set, else httpx when it
is installed, else httpx2. It is chosen once, when `cadenya` is imported (the connection errors derive from
its `TransportError`): set the variable before that. Only the chosen library is imported, and httpx2 alone
is enough: with it chosen, httpx is never imported.

The two libraries share one API; the SDK uses only its public part (no private attribute of either).
For the type checker every internal name is httpx's; the public annotations (`HTTPClient`, `Timeout`, ...)
are protocols that the classes of both satisfy.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import os
import ssl
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from ._base_errors import ConfigurationError

# What the SDK takes from you, as a type checker sees it: the shape both libraries' classes have, so that your
# code type-checks with the one library it uses, whether or not the other is installed (a union naming both
# would read as Any for the one that is missing). When the client is made, it checks that a client is really
# a Client or AsyncClient of httpx or httpx2.


class HTTPClient(Protocol):
    """A sync `Client` of httpx or httpx2: what `http_client=` of a sync client takes."""

    @property
    def is_closed(self) -> bool: ...

    def close(self) -> None: ...


class AsyncHTTPClient(Protocol):
    """An `AsyncClient` of httpx or httpx2: what `http_client=` of an async client takes."""

    @property
    def is_closed(self) -> bool: ...

    async def aclose(self) -> None: ...


class Timeout(Protocol):
    """A `Timeout` of httpx or httpx2."""

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None

    def as_dict(self) -> dict[str, float | None]: ...


class Limits(Protocol):
    """A `Limits` of httpx or httpx2."""

    max_connections: int | None
    max_keepalive_connections: int | None
    keepalive_expiry: float | None


if TYPE_CHECKING:
    import httpx
    import httpx2

    ClientOfEither: TypeAlias = httpx.Client | httpx2.Client
    """The sync client the SDK sends with (one of yours, or one it made)."""
    AsyncClientOfEither: TypeAlias = httpx.AsyncClient | httpx2.AsyncClient
    HTTPResponse: TypeAlias = httpx.Response | httpx2.Response
    HTTPRequest: TypeAlias = httpx.Request | httpx2.Request
    CertTypes: TypeAlias = str | tuple[str, str] | tuple[str, str, str]
    """A client certificate: a file with the certificate and its key, (certificate, key), or (certificate,
    key, password)."""
else:
    ClientOfEither = AsyncClientOfEither = HTTPResponse = HTTPRequest = CertTypes = Any

__all__ = [
    "LIBRARIES",
    "AsyncClientOfEither",
    "AsyncHTTPClient",
    "CertTypes",
    "ClientOfEither",
    "HTTPClient",
    "HTTPLibrary",
    "HTTPRequest",
    "HTTPResponse",
    "Limits",
    "Timeout",
    "default_library",
    "library_of",
]

LIBRARIES = ("httpx", "httpx2")
"""The HTTP libraries the SDK runs over; the first is the default when both are installed."""
LIBRARY_VARIABLE = "CADENYA_HTTP_LIBRARY"


class HTTPLibrary:
    """The names the SDK uses of one HTTP library, looked up once."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.name: str = module.__name__
        lib: Any = module
        self.Client: type[httpx.Client] = lib.Client
        self.AsyncClient: type[httpx.AsyncClient] = lib.AsyncClient
        self.Request: type[httpx.Request] = lib.Request
        self.Response: type[httpx.Response] = lib.Response
        self.Headers: type[httpx.Headers] = lib.Headers
        self.URL: type[httpx.URL] = lib.URL
        self.Timeout: type[httpx.Timeout] = lib.Timeout
        self.Limits: type[httpx.Limits] = lib.Limits
        self.AsyncBaseTransport: type[httpx.AsyncBaseTransport] = lib.AsyncBaseTransport
        self.BaseTransport: type[httpx.BaseTransport] = lib.BaseTransport
        self.AsyncHTTPTransport: type[httpx.AsyncHTTPTransport] = lib.AsyncHTTPTransport
        self.ASGITransport: type[httpx.ASGITransport] = lib.ASGITransport
        self.ByteStream: type[httpx.ByteStream] = lib.ByteStream
        self.InvalidURL: type[httpx.InvalidURL] = lib.InvalidURL
        self.TransportError: type[httpx.TransportError] = lib.TransportError
        self.TimeoutException: type[httpx.TimeoutException] = lib.TimeoutException
        self.DecodingError: type[httpx.DecodingError] = lib.DecodingError
        # Failures of this side, not of the network: retrying cannot change them.
        self.local_errors: tuple[type[httpx.TransportError], ...] = (lib.LocalProtocolError, lib.UnsupportedProtocol)
        self.create_ssl_context = lib.create_ssl_context
        parameters = frozenset(inspect.signature(lib.Client).parameters) & frozenset(
            inspect.signature(lib.AsyncClient).parameters
        )
        self.client_parameters: frozenset[str] = parameters
        """The arguments both of its client classes take."""

    def __repr__(self) -> str:
        return f"<HTTPLibrary {self.name} {getattr(self.module, '__version__', '?')}>"

    def timeout(self, timeout: Timeout) -> httpx.Timeout:
        """`timeout` as this library's Timeout (the two libraries' Timeout classes do not take each other's)."""
        if isinstance(timeout, self.Timeout):
            return timeout
        limits = timeout.as_dict()
        return self.Timeout(connect=limits["connect"], read=limits["read"], write=limits["write"], pool=limits["pool"])

    def limits(self, limits: Limits) -> httpx.Limits:
        """`limits` as this library's Limits."""
        if isinstance(limits, self.Limits):
            return limits
        return self.Limits(
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
        )


@functools.cache
def _library(name: str) -> HTTPLibrary:
    return HTTPLibrary(importlib.import_module(name))


def _configuration_error(message: str) -> Exception:
    return ConfigurationError(message)


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


@functools.cache
def default_library() -> HTTPLibrary:
    """The library of the clients the SDK makes: $CADENYA_HTTP_LIBRARY, else httpx if installed, else httpx2."""
    wanted = os.environ.get(LIBRARY_VARIABLE, "").strip().lower()
    if wanted:
        if wanted not in LIBRARIES:
            raise _configuration_error(f"{LIBRARY_VARIABLE} must be one of {', '.join(LIBRARIES)}")
        if not _installed(wanted):
            raise _configuration_error(f"{LIBRARY_VARIABLE} names {wanted}, which is not installed")
        return _library(wanted)
    for name in LIBRARIES:
        if _installed(name):
            return _library(name)
    raise _configuration_error("no HTTP library: pip install cadenya (httpx) or 'cadenya[httpx2]'")


def library_of(client: object) -> HTTPLibrary:
    """The library whose client (or transport, timeout, ...) `client` is, by the module of its class or of
    the class it derives from; a ConfigurationError for an object of neither library."""
    kind = type(client)
    if kind in _libraries_of_classes:
        library = _libraries_of_classes[kind]
    else:
        library = _libraries_of_classes[kind] = _library_of_class(kind)
    if library is None:
        raise _configuration_error(
            f"expected a client of httpx or httpx2, not {type(client).__module__}.{type(client).__qualname__}"
        )
    return library


_libraries_of_classes: dict[type, HTTPLibrary | None] = {}


def _library_of_class(kind: type) -> HTTPLibrary | None:
    for base in kind.__mro__:
        root = base.__module__.partition(".")[0]
        if root in LIBRARIES:
            return _library(root)
    return None


def library_for(given: Mapping[str, Any]) -> HTTPLibrary | None:
    """The library of a transport (or mounted ones) in httpx_args, if any: the client made with it must be of
    the same library."""
    transports = [given.get("transport"), *(given.get("mounts") or {}).values()]
    for transport in transports:
        if transport is not None:
            library = _library_of_class(type(transport))
            if library is not None:
                return library
    return None


def is_async_client(client: object) -> bool:
    """Whether `client` is an AsyncClient (of either library); a ConfigurationError if it is neither kind."""
    library = library_of(client)
    if isinstance(client, library.AsyncClient):
        return True
    if isinstance(client, library.Client):
        return False
    raise _configuration_error(f"http_client must be a Client or an AsyncClient of {library.name}")


def tls_option(verify: str | bool | ssl.SSLContext, cert: CertTypes | None, trust_env: bool) -> Any:
    """What to pass as `verify=` for `verify` and `cert`: True, False or a context as given; for a CA bundle (a
    file or a directory) or a client certificate, an SSLContext built here, once, when the client is made, so
    that a missing or unreadable file is a ConfigurationError before any request, and no version of either
    library is given an argument it deprecates. With `verify=True` the context trusts what the library
    trusts (and, with `trust_env`, SSL_CERT_FILE / SSL_CERT_DIR)."""
    if isinstance(verify, ssl.SSLContext):
        if cert is not None:
            raise _configuration_error("cert= with verify=<SSLContext>: load the certificate into the context")
        return verify
    if not isinstance(verify, str | bool):
        raise _configuration_error("verify must be True, False, a CA bundle's path or an ssl.SSLContext")
    if cert is None and isinstance(verify, bool):
        return verify
    try:
        if isinstance(verify, str):
            if os.path.isdir(verify):
                context = ssl.create_default_context(capath=verify)
            elif os.path.isfile(verify):
                context = ssl.create_default_context(cafile=verify)
            else:
                raise _configuration_error("verify= names a CA bundle that is neither a file nor a directory")
        elif verify:
            context = default_library().create_ssl_context(trust_env=trust_env)
        else:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if cert is not None:
            if isinstance(cert, str):
                context.load_cert_chain(cert)
            elif isinstance(cert, tuple) and len(cert) in (2, 3):
                context.load_cert_chain(*cert)
            else:
                raise _configuration_error("cert must be a file, (certificate, key) or (certificate, key, password)")
    except (OSError, ssl.SSLError) as error:
        # The paths are not secrets, but a password may be: only the kind of failure is named.
        what = "the CA bundle" if cert is None else "the client certificate or the CA bundle"
        raise _configuration_error(f"{what} could not be loaded ({type(error).__name__})") from None
    return context


def check_http2(http2: bool) -> None:
    """HTTP/2 needs the h2 package: say how to get it now, not at the first request."""
    if http2 and not _installed("h2"):
        raise _configuration_error("http2=True needs the h2 package: pip install 'cadenya[http2]'")


def client_arguments(
    library: HTTPLibrary,
    *,
    base_url: str,
    cookies: Mapping[str, str],
    timeout: Timeout,
    verify: Any,
    proxy: str | None,
    limits: Limits | None,
    http2: bool,
    trust_env: bool,
    follow_redirects: bool,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    """The arguments of the Client / AsyncClient the SDK makes with `library`; `verify` as tls_option gave it."""
    arguments: dict[str, Any] = {
        "base_url": base_url,
        "cookies": dict(cookies),
        "timeout": library.timeout(timeout),
        "verify": verify,
        "follow_redirects": follow_redirects,
        "trust_env": trust_env,
    }
    if http2:
        arguments["http2"] = True
    if limits is not None:
        arguments["limits"] = library.limits(limits)
    if proxy is not None:
        # httpx before 0.26 names it `proxies`.
        arguments["proxy" if "proxy" in library.client_parameters else "proxies"] = proxy
    arguments.update(extra)
    return arguments
