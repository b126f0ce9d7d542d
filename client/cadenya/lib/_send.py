"""How every operation sends its request: headers, timeouts, retries, idempotency keys and logging.

The generated operation modules call `send` / `send_async` instead of using httpx directly, so all of
this holds whatever httpx client the caller injected, and `build_response` to parse the answer.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import httpx

from ..errors import UnexpectedStatus
from ..types import Response, UnmatchedVariant
from ._errors import REQUEST_ID_HEADER, APIConnectionError, APITimeoutError, ResponseValidationError

if TYPE_CHECKING:
    from ..client import AuthenticatedClient, Client

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.cadenya.com"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
"""60 s to read a response, 5 s to connect: finite, so a stalled server cannot hang the caller."""
DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0
"""A server asking for a longer wait than this is not waited for: the answer is returned (or raised) at once."""

RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
# PATCH is retried because every PATCH of this API sets fields to given values: repeating it is harmless.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})
IDEMPOTENCY_HEADER = "Idempotency-Key"

logger = logging.getLogger("cadenya")


def base_url_from_env() -> str:
    return os.environ.get("CADENYA_BASE_URL") or DEFAULT_BASE_URL


def api_key_from_env() -> str:
    key = os.environ.get("CADENYA_API_KEY")
    if not key:
        raise ValueError("No API key: pass token=... or set the CADENYA_API_KEY environment variable.")
    return key


def configure_logging() -> None:
    """Honour CADENYA_LOG=info|debug: set the `cadenya` logger's level and give it a stderr handler."""
    level = {"info": logging.INFO, "debug": logging.DEBUG}.get(os.environ.get("CADENYA_LOG", "").lower())
    if level is None:
        return
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)


def _prepare(
    client: Client | AuthenticatedClient, http: httpx.Client | httpx.AsyncClient, kwargs: dict[str, Any]
) -> httpx.Request:
    """The request, with the client's headers and timeout, and for a POST its Idempotency-Key.

    The key is the caller's (`idempotency_key=` of the operation) or generated here, once per logical
    call, so every retry of the call carries the same key.
    """
    method = str(kwargs["method"]).upper()
    headers = {**client.default_headers(), **kwargs.get("headers", {})}
    if method == "POST" and IDEMPOTENCY_HEADER not in headers:
        headers[IDEMPOTENCY_HEADER] = f"idem_{uuid.uuid4().hex}"
    rest = {key: value for key, value in kwargs.items() if key not in ("method", "url", "headers")}
    return http.build_request(method, kwargs["url"], headers=headers, timeout=client.timeout, **rest)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """The wait the server asked for, in seconds: retry-after-ms, then Retry-After as seconds or HTTP-date."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        with contextlib.suppress(ValueError):
            return max(float(milliseconds) / 1000, 0.0)
    value = headers.get("retry-after")
    if value is None:
        return None
    with contextlib.suppress(ValueError):
        return max(float(value), 0.0)
    with contextlib.suppress(TypeError, ValueError, IndexError):
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max((when - datetime.now(UTC)).total_seconds(), 0.0)
    return None


def _backoff(retries_done: int) -> float:
    """Exponential backoff from INITIAL_RETRY_DELAY, capped at MAX_RETRY_DELAY, with up to 25% jitter."""
    delay = min(INITIAL_RETRY_DELAY * 2.0**retries_done, MAX_RETRY_DELAY)
    return delay * (1 - 0.25 * random.random())  # noqa: S311  (jitter, not cryptography)


def _retry_delay(
    request: httpx.Request, retries_done: int, max_retries: int, response: httpx.Response | None
) -> float | None:
    """Seconds to wait before retrying, or None when this answer (or failure) is final."""
    if retries_done >= max_retries:
        return None
    if request.method not in IDEMPOTENT_METHODS and IDEMPOTENCY_HEADER not in request.headers:
        return None
    if response is None:
        return _backoff(retries_done)
    should_retry = response.headers.get("x-should-retry")
    if should_retry == "false" or (should_retry != "true" and response.status_code not in RETRYABLE_STATUSES):
        return None
    asked = _retry_after(response.headers)
    if asked is None:
        return _backoff(retries_done)
    return asked if asked <= MAX_RETRY_AFTER else None


def _log(
    request: httpx.Request, response: httpx.Response | None, started: float, retries: int, error: str = ""
) -> None:
    if not logger.isEnabledFor(logging.INFO):
        return
    elapsed_ms = (time.monotonic() - started) * 1000
    if response is None:
        logger.info(
            "%s %s failed after %.0f ms, %d retries: %s", request.method, request.url.path, elapsed_ms, retries, error
        )
    else:
        logger.info(
            "%s %s -> %d in %.0f ms, request id %s, %d retries",
            request.method, request.url.path, response.status_code, elapsed_ms,
            response.headers.get(REQUEST_ID_HEADER, "-"), retries,
        )  # fmt: skip


def _connection_error(request: httpx.Request, error: httpx.TransportError, retries: int) -> APIConnectionError:
    what = "timed out" if isinstance(error, httpx.TimeoutException) else f"failed ({type(error).__name__})"
    message = f"{request.method} {request.url.path} {what} after {retries} retries"
    kind = APITimeoutError if isinstance(error, httpx.TimeoutException) else APIConnectionError
    return kind(message, request=request)


def _delay_after_failure(
    client: Client | AuthenticatedClient,
    request: httpx.Request,
    error: httpx.TransportError,
    retries: int,
    started: float,
) -> float:
    """Seconds to wait before retrying a request that got no answer; raises the typed error when that was final."""
    delay = _retry_delay(request, retries, client.max_retries, None)
    if delay is None:
        _log(request, None, started, retries, type(error).__name__)
        raise _connection_error(request, error, retries) from error
    logger.debug(
        "%s %s: %s, retry %d in %.2f s", request.method, request.url.path, type(error).__name__, retries + 1, delay
    )
    return delay


def _delay_after_answer(
    client: Client | AuthenticatedClient, request: httpx.Request, response: httpx.Response, retries: int, started: float
) -> float | None:
    """Seconds to wait before retrying after this answer, or None (logged) when it is the one to return."""
    delay = _retry_delay(request, retries, client.max_retries, response)
    if delay is None:
        _log(request, response, started, retries)
    else:
        logger.debug(
            "%s %s: %d, retry %d in %.2f s", request.method, request.url.path, response.status_code, retries + 1, delay
        )
    return delay


def send(client: Client | AuthenticatedClient, kwargs: dict[str, Any]) -> httpx.Response:
    """Send one logical request, retrying what may be retried; the same Idempotency-Key on every attempt."""
    http = client.get_httpx_client()
    request = _prepare(client, http, kwargs)
    started, retries = time.monotonic(), 0
    while True:
        try:
            response = http.send(request)
        except httpx.TransportError as error:
            delay = _delay_after_failure(client, request, error, retries, started)
        else:
            answer_delay = _delay_after_answer(client, request, response, retries, started)
            if answer_delay is None:
                return response
            response.close()
            delay = answer_delay
        time.sleep(delay)
        retries += 1


async def send_async(client: Client | AuthenticatedClient, kwargs: dict[str, Any]) -> httpx.Response:
    """`send`, for the asyncio call styles (any anyio backend)."""
    http = client.get_async_httpx_client()
    request = _prepare(client, http, kwargs)
    started, retries = time.monotonic(), 0
    while True:
        try:
            response = await http.send(request)
        except httpx.TransportError as error:
            delay = _delay_after_failure(client, request, error, retries, started)
        else:
            answer_delay = _delay_after_answer(client, request, response, retries, started)
            if answer_delay is None:
                return response
            await response.aclose()
            delay = answer_delay
        await anyio.sleep(delay)
        retries += 1


def _status(code: int) -> HTTPStatus:
    """HTTPStatus for `code`; a code HTTPStatus does not know (299, 520, ...) is kept as a plain int."""
    try:
        return HTTPStatus(code)
    except ValueError:
        return code  # type: ignore[return-value]


def _reason(error: Exception) -> str:
    """What went wrong, without quoting the body: it may hold a secret."""
    position = getattr(error, "pos", None)
    return f"{type(error).__name__} at character {position}" if position is not None else type(error).__name__


def build_response(response: httpx.Response, operation: str, parse: Callable[[], T | None]) -> Response[T]:
    """The generated `Response`, with unreadable bodies turned into typed errors instead of leaking out.

    A 2xx body that cannot be parsed raises `ResponseValidationError` naming the operation. An error
    status whose body cannot be parsed gives `parsed=None`, as an undocumented status does; so does a body
    that fits none of the shapes of a `oneOf` (a later API may add one): its content is kept.
    """
    try:
        parsed: T | None = parse()
    except UnexpectedStatus:
        raise
    except UnmatchedVariant:
        parsed = None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        if 200 <= response.status_code < 300:
            raise ResponseValidationError(
                operation, response.status_code, response.headers.get(REQUEST_ID_HEADER), _reason(error)
            ) from error
        parsed = None
    return Response(
        status_code=_status(response.status_code), content=response.content, headers=response.headers, parsed=parsed
    )
