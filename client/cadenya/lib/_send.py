"""How every operation sends its request: headers, timeouts, the call's deadline, retries, redirects,
idempotency keys, the body limit and logging.

The generated operation modules (and the resource clients) call `send` / `send_async` instead of using
httpx directly, so all of this holds whatever httpx client the caller injected, and `build_response` to
parse the answer. The two loops mirror each other; what they decide is decided once, in the helpers.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import random
import sys
import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar, cast

from ._config import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ._errors import (
    REQUEST_ID_HEADER,
    APIConnectionError,
    APITimeoutError,
    ResponseTooLargeError,
    ResponseValidationError,
    UnexpectedStatus,
)
from ._headers import attach_request_id, retry_after_seconds
from ._http import HTTPLibrary, HTTPResponse
from ._path import check_no_dot_segments
from ._plan import RequestPlan
from ._plural import counted
from ._protocol import SendingClient
from ._types import Response, UnmatchedVariant

if TYPE_CHECKING:
    import httpx

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT", "build_response", "send", "send_async"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
C_contra = TypeVar("C_contra", contravariant=True)
C = TypeVar("C", bound=SendingClient)

INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0
"""A server asking for a longer wait than this is not waited for: the answer is returned (or raised) at once."""
MAX_REDIRECTS = 20

# Every 409 of this API is a conflict with the state of the account (a limit, a revoked key, a reused
# Idempotency-Key): asking again cannot help, so it is retried only if the server says `X-Should-Retry: true`.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# PATCH is retried because every PATCH of this API sets fields to given values: repeating it is harmless.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})
IDEMPOTENCY_HEADER = "Idempotency-Key"

logger = logging.getLogger("cadenya")


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


def _merged_headers(defaults: dict[str, str], extra: Mapping[str, str] | None) -> dict[str, str]:
    """`defaults` overridden by `extra`, comparing names without case, as HTTP does."""
    if not extra:
        return defaults
    overridden = {name.lower() for name in extra}
    merged = {name: value for name, value in defaults.items() if name.lower() not in overridden}
    merged.update(extra)
    return merged


def _idempotency_key() -> str:
    import uuid  # only POSTs need it: not imported with the package

    return f"idem_{uuid.uuid4().hex}"


def _prepare(
    client: SendingClient, http: httpx.Client | httpx.AsyncClient, kwargs: dict[str, Any]
) -> tuple[httpx.Request, RequestPlan]:
    """The request, with the client's headers and timeout, and for a POST its Idempotency-Key.

    The key is the caller's (`idempotency_key=` of the operation, or a header of the client in any case)
    or generated here, once per logical call, so every retry of the call carries the same key.
    """
    plan = client.request_plan(http)
    method = str(kwargs["method"]).upper()
    extra: Mapping[str, str] | None = kwargs.get("headers")
    if method == "POST" and not plan.idempotency_key_set:
        if not extra:
            extra = {IDEMPOTENCY_HEADER: _idempotency_key()}
        elif not any(name.lower() == "idempotency-key" for name in extra):
            extra = {**extra, IDEMPOTENCY_HEADER: _idempotency_key()}
    path: str = kwargs["url"]
    check_no_dot_segments(path)
    rest = {key: value for key, value in kwargs.items() if key not in ("method", "url", "headers")}
    request = http.build_request(
        method,
        plan.prefix + path if plan.prefix else path,
        headers=_merged_headers(plan.defaults, extra),
        timeout=plan.library.timeout(plan.timeout),
        **rest,
    )
    return request, plan


def _backoff(retries_done: int) -> float:
    """Exponential backoff from INITIAL_RETRY_DELAY, capped at MAX_RETRY_DELAY, with up to 25% jitter."""
    delay = min(INITIAL_RETRY_DELAY * 2.0**retries_done, MAX_RETRY_DELAY)
    return delay * (1 - 0.25 * random.random())  # noqa: S311  (jitter, not cryptography)


class _DeadlinePassed(Exception):
    """Internal: the call's deadline passed during an attempt (not a TransportError, so never retried)."""


class _TooManyRedirects(Exception):
    """Internal: a redirect loop (not a TransportError, so never retried)."""


class _Call:
    """One logical call: its request, its attempts so far, and when its deadline passes."""

    __slots__ = ("client", "deadline", "library", "longest_timeout", "request", "retries", "started")

    def __init__(self, client: SendingClient, request: httpx.Request, plan: RequestPlan) -> None:
        self.client, self.request, self.retries = client, request, 0
        self.library: HTTPLibrary = plan.library
        self.longest_timeout = plan.longest_timeout
        self.started = time.monotonic()
        self.deadline = None if client.deadline is None else self.started + client.deadline

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def start_attempt(self, request: httpx.Request | None = None) -> None:
        """Bound the connect, read, write and pool waits of this attempt's request (or of `request`, a redirect
        hop of it) by what is left of the deadline; raise `_DeadlinePassed` when nothing is left."""
        remaining = self.remaining()
        if remaining is None:
            return
        if remaining <= 0:
            raise _DeadlinePassed
        if self.longest_timeout is not None and remaining >= self.longest_timeout:
            return  # every limit of the request's timeout already ends before the deadline
        timeout = self.client.timeout
        (request or self.request).extensions["timeout"] = {
            "connect": remaining if timeout.connect is None else min(timeout.connect, remaining),
            "read": remaining if timeout.read is None else min(timeout.read, remaining),
            "write": remaining if timeout.write is None else min(timeout.write, remaining),
            "pool": remaining if timeout.pool is None else min(timeout.pool, remaining),
        }

    def deadline_passed(self) -> NoReturn:
        _log(self.request, None, self.started, self.retries, "deadline")
        raise APITimeoutError(
            f"{self.request.method} {self.request.url.path} did not finish within its deadline of"
            f" {self.client.deadline:g} s ({counted(self.retries, 'retry', 'retries')})",
            request=self.request,
        )

    def retry_delay(self, response: httpx.Response | None) -> float | None:
        """Seconds to wait before retrying after this answer (or failure, when None); None when it is final."""
        if self.retries >= self.client.max_retries:
            return None
        request = self.request
        if request.method not in IDEMPOTENT_METHODS and IDEMPOTENCY_HEADER not in request.headers:
            return None
        if response is None:
            delay: float | None = _backoff(self.retries)
        else:
            should_retry = response.headers.get("x-should-retry")
            if should_retry == "false" or (should_retry != "true" and response.status_code not in RETRYABLE_STATUSES):
                return None
            asked = retry_after_seconds(response.headers)
            delay = _backoff(self.retries) if asked is None else (asked if asked <= MAX_RETRY_AFTER else None)
        remaining = self.remaining()
        if delay is not None and remaining is not None and delay >= remaining:
            return None  # the wait would outlast the deadline: this answer (or failure) is final
        return delay

    def after_failure(self, error: httpx.TransportError) -> float:
        """Seconds to wait before retrying a request that got no answer; raises the typed error when final."""
        local = isinstance(error, self.library.local_errors)
        delay = None if local else self.retry_delay(None)
        if delay is None:
            _log(self.request, None, self.started, self.retries, type(error).__name__)
            # A local error's message may quote a header (the token): it is not chained.
            raise _connection_error(self.library, self.request, error, self.retries) from (None if local else error)
        logger.debug(
            "%s %s: %s, retry %d in %.2f s",
            self.request.method, self.request.url.path, type(error).__name__, self.retries + 1, delay,
        )  # fmt: skip
        return delay

    def after_answer(self, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying after this answer, or None (logged) when it is the one to return."""
        delay = self.retry_delay(response)
        if delay is None:
            _log(self.request, response, self.started, self.retries)
        else:
            logger.debug(
                "%s %s: %d, retry %d in %.2f s",
                self.request.method, self.request.url.path, response.status_code, self.retries + 1, delay,
            )  # fmt: skip
        return delay


def _log(
    request: httpx.Request, response: httpx.Response | None, started: float, retries: int, error: str = ""
) -> None:
    if not logger.isEnabledFor(logging.INFO):
        return
    elapsed_ms = (time.monotonic() - started) * 1000
    if response is None:
        logger.info(
            "%s %s failed after %.0f ms, %s: %s",
            request.method, request.url.path, elapsed_ms, counted(retries, "retry", "retries"), error,
        )  # fmt: skip
    else:
        logger.info(
            "%s %s -> %d in %.0f ms, request id %s, %s",
            request.method, request.url.path, response.status_code, elapsed_ms,
            response.headers.get(REQUEST_ID_HEADER, "-"), counted(retries, "retry", "retries"),
        )  # fmt: skip


def _connection_error(
    library: HTTPLibrary, request: httpx.Request, error: httpx.TransportError, retries: int
) -> APIConnectionError:
    """The typed error, whose message names what failed but never repeats the library's (it may quote a header)."""
    if isinstance(error, library.local_errors):
        message = f"{request.method} {request.url.path} could not be sent ({type(error).__name__}); nothing was retried"
        return APIConnectionError(message, request=request)
    timed_out = isinstance(error, library.TimeoutException)
    what = "timed out" if timed_out else f"failed ({type(error).__name__})"
    message = f"{request.method} {request.url.path} {what} after {counted(retries, 'retry', 'retries')}"
    kind = APITimeoutError if timed_out else APIConnectionError
    return kind(message, request=request)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or {"http": 80, "https": 443}.get(url.scheme)


def _redirect(call: _Call, response: httpx.Response, hops: int) -> httpx.Request | None:
    """The next request of a redirect to follow, or None. On another origin it carries no credential."""
    next_request = response.next_request
    if next_request is None:
        return None
    if hops >= MAX_REDIRECTS:
        raise _TooManyRedirects
    if _origin(next_request.url) != _origin(call.request.url):
        for name in {call.client.auth_header_name, "Authorization"}:
            next_request.headers.pop(name, None)
    return next_request


def _follows(client: SendingClient, http: httpx.Client | httpx.AsyncClient) -> bool:
    return client.follow_redirects or http.follow_redirects


def _too_large(call: _Call) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"{call.request.method} {call.request.url.path}: the answer is larger than max_response_bytes"
        f" ({counted(call.client.max_response_bytes, 'byte')}); it was not read"
    )


def _unreadable(call: _Call, response: httpx.Response, error: httpx.DecodingError) -> ResponseValidationError:
    return ResponseValidationError(
        f"{call.request.method} {call.request.url.path}",
        response.status_code,
        response.headers.get(REQUEST_ID_HEADER),
        f"{type(error).__name__}: the body does not decode as its Content-Encoding says",
    )


def _undecoded(call: _Call) -> APIConnectionError:
    """A transport that decodes the body itself (a MockTransport's answer) failed to: no answer came through."""
    _log(call.request, None, call.started, call.retries, "DecodingError")
    return APIConnectionError(
        f"{call.request.method} {call.request.url.path}: the transport could not decode the answer's body as its"
        " Content-Encoding says (DecodingError); nothing was retried",
        request=call.request,
    )


def _as_read(call: _Call, response: httpx.Response, body: bytes) -> httpx.Response:
    """The answer with its body read: a response of the same library, status, headers, request and extensions
    whose content is `body`, decoded, so it no longer claims a Content-Encoding, and its length is that of
    `body`. (The streamed response is closed; it cannot be given its content through the public API.)"""
    skipped = (b"content-encoding", b"content-length")
    read = call.library.Response(
        response.status_code,
        headers=[(name, value) for name, value in response.headers.raw if name.lower() not in skipped],
        content=body,
        request=response.request,
        extensions=response.extensions,
        history=response.history,
    )
    with contextlib.suppress(RuntimeError):  # a transport's answer that was never streamed has no elapsed time
        read.elapsed = response.elapsed
    return read


def _read(call: _Call, response: httpx.Response) -> httpx.Response:
    """Read the body, decompressed, within max_response_bytes and the deadline; the connection is released."""
    limit, chunks, size = call.client.max_response_bytes, [], 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise _too_large(call)
            if call.deadline is not None and time.monotonic() > call.deadline:
                raise _DeadlinePassed
            chunks.append(chunk)
    except call.library.DecodingError as error:
        raise _unreadable(call, response, error) from None
    finally:
        response.close()
    return _as_read(call, response, b"".join(chunks))


async def _aread(call: _Call, response: httpx.Response) -> httpx.Response:
    """`_read`, for the async loop."""
    limit, chunks, size = call.client.max_response_bytes, [], 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise _too_large(call)
            if call.deadline is not None and time.monotonic() > call.deadline:
                raise _DeadlinePassed
            chunks.append(chunk)
    except call.library.DecodingError as error:
        raise _unreadable(call, response, error) from None
    finally:
        await response.aclose()
    return _as_read(call, response, b"".join(chunks))


def _exchange(call: _Call, http: httpx.Client) -> httpx.Response:
    """One attempt: send, follow redirects if asked to, read the answer."""
    response, hops = http.send(call.request, stream=True, follow_redirects=False), 0
    try:
        while _follows(call.client, http) and (next_request := _redirect(call, response, hops)) is not None:
            response.close()
            call.start_attempt(next_request)
            response, hops = http.send(next_request, stream=True, follow_redirects=False), hops + 1
    except BaseException:
        response.close()
        raise
    return _read(call, response)


async def _aexchange(call: _Call, http: httpx.AsyncClient) -> httpx.Response:
    """`_exchange`, for the async loop."""
    response, hops = await http.send(call.request, stream=True, follow_redirects=False), 0
    try:
        while _follows(call.client, http) and (next_request := _redirect(call, response, hops)) is not None:
            await response.aclose()
            call.start_attempt(next_request)
            response, hops = await http.send(next_request, stream=True, follow_redirects=False), hops + 1
    except BaseException:
        await response.aclose()
        raise
    return await _aread(call, response)


def _final(call: _Call, problem: Exception) -> NoReturn:
    """Raise the typed error of a problem that ends the call at once."""
    if isinstance(problem, _DeadlinePassed):
        call.deadline_passed()
    raise APIConnectionError(
        f"{call.request.method} {call.request.url.path} was redirected more than {MAX_REDIRECTS} times",
        request=call.request,
    )


def send(client: SendingClient, kwargs: dict[str, Any]) -> httpx.Response:
    """Send one logical request, retrying what may be retried; the same Idempotency-Key on every attempt."""
    http = cast("httpx.Client", client.get_httpx_client())
    request, plan = _prepare(client, http, kwargs)
    call = _Call(client, request, plan)
    while True:
        try:
            call.start_attempt()
            response = _exchange(call, http)
        except (_DeadlinePassed, _TooManyRedirects) as problem:
            _final(call, problem)
        except plan.library.DecodingError:
            raise _undecoded(call) from None
        except plan.library.TransportError as error:
            if call.expired():
                call.deadline_passed()
            delay = call.after_failure(error)
        else:
            answer_delay = call.after_answer(response)
            if answer_delay is None:
                return response
            delay = answer_delay
        time.sleep(delay)
        call.retries += 1


async def send_async(client: SendingClient, kwargs: dict[str, Any]) -> httpx.Response:
    """`send`, for the asyncio call styles (any anyio backend)."""
    http = cast("httpx.AsyncClient", client.get_async_httpx_client())
    request, plan = _prepare(client, http, kwargs)
    call = _Call(client, request, plan)
    while True:
        try:
            call.start_attempt()
            response = await _aexchange(call, http)
        except (_DeadlinePassed, _TooManyRedirects) as problem:
            _final(call, problem)
        except plan.library.DecodingError:
            raise _undecoded(call) from None
        except plan.library.TransportError as error:
            if call.expired():
                call.deadline_passed()
            delay = call.after_failure(error)
        else:
            answer_delay = call.after_answer(response)
            if answer_delay is None:
                return response
            delay = answer_delay
        await _sleep_async(delay)
        call.retries += 1


async def _sleep_async(seconds: float) -> None:
    """Wait under whichever event loop runs the call; anyio is imported by the first retry that waits."""
    import anyio

    await anyio.sleep(seconds)


PAUSE_COLLECTOR_FROM = 64 * 1024
"""Bodies this large are decoded with the cyclic garbage collector paused.

Decoding a page makes thousands of objects, none of them in a reference cycle, and every few hundred the
collector would walk all the young ones again: more than half of the time of a 1,000-key page. Paused, the
objects are still freed by reference counting as usual, and the collector's work is postponed, not skipped:
its next pass, once it is back on, looks at them once. The switch is process-wide, so it is taken only when
the collector is on, and given back only by the call that took it.
"""

_STATUSES = {int(status): status for status in HTTPStatus}


def _status(code: int) -> HTTPStatus:
    """HTTPStatus for `code`; a code HTTPStatus does not know (299, 520, ...) is kept as a plain int."""
    return _STATUSES.get(code, code)  # type: ignore[arg-type]


def _reason(error: BaseException) -> str:
    """What went wrong, without quoting the body: it may hold a secret."""
    if isinstance(error, RecursionError):
        return "RecursionError: the JSON is nested too deeply"
    if isinstance(error, KeyError) and error.args and isinstance(error.args[0], str):
        return f"KeyError: no field {error.args[0]!r}"  # a name the spec gives, not a value of the body
    if isinstance(error, json.JSONDecodeError):  # the parser's own words, which quote nothing of the body
        return f"JSONDecodeError: {error.msg} at character {error.pos}"
    return type(error).__name__


class Parser(Protocol[C_contra, T_co]):
    """An operation module's `_parse_response`."""

    def __call__(self, *, client: C_contra, response: HTTPResponse) -> T_co | None: ...


def build_response(client: C, response: HTTPResponse, operation: str, parse: Parser[C, T]) -> Response[T]:
    """The generated `Response`, with unreadable bodies turned into typed errors instead of leaking out.

    A 2xx body that cannot be parsed raises `ResponseValidationError` naming the operation. An error
    status whose body cannot be parsed gives `parsed=None`, as an undocumented status does; so does a body
    that fits none of the shapes of a `oneOf` (a later API may add one): its content is kept.
    """
    paused = len(response.content) >= PAUSE_COLLECTOR_FROM and gc.isenabled()
    if paused:
        gc.disable()
    try:
        parsed: T | None = parse(client=client, response=response)
    except UnexpectedStatus:
        raise
    except UnmatchedVariant:
        parsed = None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as error:
        if 200 <= response.status_code < 300:
            raise ResponseValidationError(
                operation, response.status_code, response.headers.get(REQUEST_ID_HEADER), _reason(error)
            ) from None
        parsed = None
    finally:
        if paused:
            gc.enable()
    attach_request_id(parsed, response.headers)
    return Response(
        status_code=_status(response.status_code), content=response.content, headers=response.headers, parsed=parsed
    )
