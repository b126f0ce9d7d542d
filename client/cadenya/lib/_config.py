"""The client's options: defaults, the checks that refuse local mistakes before any I/O, and the User-Agent.

Every check raises `ConfigurationError` with a message that names what is wrong, never the value: a value
in the wrong place (an API key passed as the base URL) would otherwise end up in logs and tracebacks.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from ._errors import ConfigurationError
from ._http import HTTPLibrary, Timeout, check_http2, default_library, library_of

if TYPE_CHECKING:
    import httpx

DEFAULT_BASE_URL = "https://api.cadenya.com"
DEFAULT_TIMEOUT: httpx.Timeout = default_library().Timeout(60.0, connect=5.0)
"""60 s to read a response, 5 s to connect: finite, so a stalled server cannot hang the caller."""
DEFAULT_MAX_RETRIES = 2
DEFAULT_DEADLINE = 120.0
"""Seconds one call may take in all: every attempt, every wait between them, every byte of the answer."""
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
"""The largest answer body read, decompressed; the API's answers are a few hundred kilobytes at most."""
DEFAULT_MAX_PAGES = 10_000
"""The most pages one iteration over a list fetches (a million items at 100 a page) before PageLimitError:
a server that keeps answering new page tokens cannot keep a loop going forever."""


def base_url_from_env() -> str:
    from_env = os.environ.get("CADENYA_BASE_URL")
    if not from_env:
        return DEFAULT_BASE_URL
    try:
        check_base_url(None, None, from_env)
    except ConfigurationError as error:
        raise ConfigurationError(f"the CADENYA_BASE_URL environment variable: {error}") from None
    return from_env


def api_key_from_env() -> str:
    key = os.environ.get("CADENYA_API_KEY")
    if not key:
        raise ConfigurationError("No API key: pass token=... or set the CADENYA_API_KEY environment variable.")
    return key


def check_base_url(_: object, __: object, value: object) -> None:
    """An http(s) URL with a host (an attrs validator)."""
    if not isinstance(value, str):
        raise ConfigurationError(f"base_url must be a string, not {type(value).__name__}")
    library = default_library()
    try:
        url = library.URL(value)
    except (library.InvalidURL, ValueError, TypeError):
        raise ConfigurationError("base_url is not a URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            "base_url must start with http:// or https:// and name a host (was an API key passed as base_url?)"
        )


def _is_header_value(value: str) -> bool:
    return value.isascii() and value.isprintable()


def check_token(_: object, __: object, value: object) -> None:
    """A non-empty token of printable ASCII without spaces (an attrs validator)."""
    if not isinstance(value, str):
        raise ConfigurationError(f"the API key must be a string, not {type(value).__name__}")
    if not value:
        raise ConfigurationError("the API key is empty")
    if not _is_header_value(value) or any(character.isspace() for character in value):
        raise ConfigurationError(
            "the API key has spaces, line breaks or other characters a token cannot have (read from a file "
            "with its trailing newline?)"
        )


def check_header_name(_: object, __: object, value: object) -> None:
    if not isinstance(value, str) or not value or not _is_header_value(value) or " " in value or ":" in value:
        raise ConfigurationError("a header name must be a non-empty ASCII token")


def check_headers(_: object, __: object, value: object) -> None:
    """Header names and values that can go on the wire as given (an attrs validator)."""
    if not isinstance(value, Mapping):
        raise ConfigurationError("headers must be a mapping of names to values")
    for name, header_value in value.items():
        check_header_name(None, None, name)
        if not isinstance(header_value, str) or not _is_header_value(header_value):
            raise ConfigurationError(f"the value of header {name} has characters a header value cannot have")


def _is_seconds(value: object) -> bool:
    """A positive, finite number of seconds (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def timeout_option(value: Timeout | float | None) -> httpx.Timeout:
    """The `timeout` option (an attrs converter): seconds, a Timeout of httpx or httpx2, or None for the finite
    default. The value kept is a Timeout of the default library.

    Every limit must be a positive, finite number of seconds; inside a Timeout, None means that phase has
    no limit of its own (the call's deadline still bounds it).
    """
    if value is None:
        return DEFAULT_TIMEOUT
    library = default_library()
    if _is_seconds(value):
        return library.Timeout(cast(float, value))
    if not isinstance(value, int | float | str | bytes | bool):
        try:
            limits = library_of(value).timeout(value)
        except ConfigurationError:
            pass
        else:
            if all(limit is None or _is_seconds(limit) for limit in limits.as_dict().values()):
                return library.timeout(limits)
    raise ConfigurationError("timeout must be a positive, finite number of seconds, a Timeout of such numbers, or None")


def check_max_retries(_: object, __: object, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigurationError("max_retries must be an integer of 0 or more (0 turns retries off)")


def check_deadline(_: object, __: object, value: object) -> None:
    if value is not None and (not isinstance(value, int | float) or isinstance(value, bool) or not value > 0):
        raise ConfigurationError("deadline must be a positive number of seconds, or None for no deadline")


def check_max_pages(_: object, __: object, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigurationError("max_pages must be a positive integer")


def check_max_response_bytes(_: object, __: object, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigurationError("max_response_bytes must be a positive integer")


# The arguments the SDK passes to the Client / AsyncClient it makes itself, and the option that sets each.
HTTPX_ARGUMENTS_OF_THE_SDK = {
    "base_url": "base_url",
    "cookies": "cookies",
    "timeout": "timeout",
    "verify": "verify",
    "follow_redirects": "follow_redirects",
}
# Arguments that have an option of the client but that the SDK does not read itself: httpx_args may still
# carry them, as long as the option is not given too.
HTTPX_ARGUMENTS_WITH_AN_OPTION = {
    "cert": "cert",
    "proxy": "proxy",
    "proxies": "proxy",
    "limits": "limits",
    "http2": "http2",
    "trust_env": "trust_env",
}


def check_httpx_args(_: object, __: object, value: object) -> None:
    """`httpx_args` (an attrs validator): arguments of httpx.Client and httpx.AsyncClient that the SDK does not pass
    itself. One the SDK passes is refused, not merged: its option says the same thing, and the SDK reads that
    option for its own work too (the deadline, its redirect loop, the request plan's base URL)."""
    if not isinstance(value, Mapping):
        raise ConfigurationError("httpx_args must be a mapping of httpx.Client argument names to values")
    for name in value:
        if not isinstance(name, str):
            raise ConfigurationError("httpx_args must be a mapping of httpx.Client argument names to values")
        option = HTTPX_ARGUMENTS_OF_THE_SDK.get(name)
        if option is not None:
            raise ConfigurationError(
                f"httpx_args[{name!r}] is set by the client itself: pass {option}= to the client instead"
            )
        if name not in default_library().client_parameters:
            raise ConfigurationError(f"httpx_args[{name!r}] is not an argument of httpx.Client and httpx.AsyncClient")


def check_http_client(library: HTTPLibrary, client: object) -> None:
    """A client you give: its base URL, if it has one, must be an http(s) URL with a host (without one, the
    SDK's base_url is sent to)."""
    base_url: httpx.URL = getattr(client, "base_url", None) or library.URL("")
    if str(base_url) and (not base_url.host or base_url.scheme not in ("http", "https")):
        raise ConfigurationError("the http client's base_url is not an http(s) URL with a host")


@functools.cache
def version() -> str:
    """This package's version, from its installed metadata (the one version lives in pyproject.toml)."""
    from importlib import metadata

    try:
        return metadata.version("cadenya")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@functools.cache
def user_agent() -> str:
    """`cadenya-python/<version> <Python implementation>/<version> <system>/<machine>`, e.g. `... CPython/3.12.3 Linux/x86_64`."""
    import platform  # once per process, by the first client's first request: not imported with the package

    return (
        f"cadenya-python/{version()} {platform.python_implementation()}/{platform.python_version()}"
        f" {platform.system() or 'unknown'}/{platform.machine() or 'unknown'}"
    )


def default_headers(
    token: str | None, prefix: str, auth_header_name: str, headers: Mapping[str, Any]
) -> dict[str, str]:
    """The headers of every request: the User-Agent unless the caller sets one, the caller's, and the credential."""
    merged = {"User-Agent": user_agent()} if not any(name.lower() == "user-agent" for name in headers) else {}
    merged.update(headers)
    if token is not None:
        merged[auth_header_name] = f"{prefix} {token}" if prefix else token
    return merged


def verify_option(verify: object, verify_ssl: object) -> Any:
    """`verify`, or `verify_ssl` (the generated client's name for it) when that is the one given."""
    if verify_ssl is None or verify_ssl is verify:
        return verify
    if verify is not True:
        raise ConfigurationError("verify= and verify_ssl= are one option: pass one of them")
    return verify_ssl


def check_http2_option(_: object, __: object, value: object) -> None:
    """`http2` (an attrs validator): a bool, and with True the h2 package installed."""
    if not isinstance(value, bool):
        raise ConfigurationError("http2 must be True or False")
    check_http2(value)


def check_options_and_httpx_args(httpx_args: Mapping[str, Any], given: Mapping[str, bool]) -> None:
    """Refuse an argument given both in httpx_args and as the client's option (`given[option]`: whether it
    was set to other than its default)."""
    for name, option in HTTPX_ARGUMENTS_WITH_AN_OPTION.items():
        if name in httpx_args and given.get(option):
            raise ConfigurationError(f"{option}= and httpx_args[{name!r}] say the same thing: pass one of them")


def check_options_beside_http_client(http_client: object, given: Mapping[str, bool]) -> None:
    """With a client of your own, the options that configure the SDK's clients have nothing to configure:
    giving one too is refused, not silently ignored (set it on your client)."""
    if http_client is None:
        return
    named = [option for option, is_given in given.items() if is_given]
    if named:
        options = ", ".join(f"{option}=" for option in named)
        raise ConfigurationError(
            f"{options}: options of the HTTP client the SDK makes; with http_client= set them on your client instead"
        )
