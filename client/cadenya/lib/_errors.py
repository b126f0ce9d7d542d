"""Typed exceptions, and `unwrap`, which turns a `Response[X | Error]` into `X` or raises one of them."""

from __future__ import annotations

import json
from collections.abc import Collection
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ..models.error import Error
from ..types import Response
from ._base_errors import CadenyaError as CadenyaError
from ._base_errors import ConfigurationError as ConfigurationError
from ._http import HTTPRequest, HTTPResponse, default_library
from ._plural import counted

if TYPE_CHECKING:
    import httpx
    from httpx import TimeoutException as _TimeoutException
    from httpx import TransportError as _TransportError
from ._headers import REQUEST_ID_HEADER as REQUEST_ID_HEADER  # the send path reads it from here too
from ._headers import retry_after_seconds

T = TypeVar("T")


class InvalidPathParameterError(CadenyaError, ValueError):
    """A path parameter that cannot be sent as exactly one path segment: empty, `.` or `..` (or one that
    percent-decodes to these), not a string, or not encodable text. Raised before anything is sent.

    `parameter` names the argument (None when an assembled path holds a dot segment). The message never
    repeats the value.
    """

    def __init__(self, parameter: str | None, reason: str) -> None:
        self.parameter, self.reason = parameter, reason
        what = f"path parameter {parameter}" if parameter is not None else "the request path"
        super().__init__(f"{what} {reason}; nothing was sent")

    def __reduce__(self) -> tuple[type[InvalidPathParameterError], tuple[str | None, str]]:
        return type(self), (self.parameter, self.reason)


class UnexpectedStatus(CadenyaError):
    """A status the spec does not document for the operation.

    Raised by the call styles when the client has `raise_on_unexpected_status=True`, and by `unwrap` for a
    success status that carries no documented answer. `content` holds the body; the message does not, since
    a proxy's page may echo the request, credentials included.
    """

    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content
        super().__init__(f"Unexpected status code: {status_code}, which the spec does not document")

    def __reduce__(self) -> tuple[type[UnexpectedStatus], tuple[int, bytes]]:
        # Pickled without its body, which may echo the request's credentials; the status travels.
        return type(self), (self.status_code, b"")


class ResponseTooLargeError(CadenyaError):
    """The answer's body, decompressed, is larger than the client's `max_response_bytes`; it was not read."""


class PageRepeatedError(CadenyaError):
    """A list answered a page token it had already given: following it would loop forever."""


class PageLimitError(CadenyaError):
    """An iteration over a list fetched the client's `max_pages` pages and the list still had more; it
    stopped there. Raise `max_pages` on the client to go further, or fetch page by page."""

    def __init__(self, max_pages: int) -> None:
        self.max_pages = max_pages
        super().__init__(f"stopped after {counted(max_pages, 'page')}, the client's max_pages, with more pages left")

    def __reduce__(self) -> tuple[type[PageLimitError], tuple[int]]:
        return type(self), (self.max_pages,)


if not TYPE_CHECKING:  # chosen here, below ConfigurationError, which choosing may raise
    _TransportError = default_library().TransportError
    _TimeoutException = default_library().TimeoutException


class APIConnectionError(CadenyaError, _TransportError):
    """The request did not get an answer: the connection failed or broke, after every retry, or the transport
    could not decode the body of the answer it got (then `str()` says so, and nothing is retried).

    Also a `TransportError` of the default HTTP library (httpx's, or httpx2's where httpx2 is the one), so
    code written against the plain generated client keeps working.
    """

    def __init__(self, message: str, *, request: HTTPRequest | None = None) -> None:
        super().__init__(message, request=cast("httpx.Request | None", request))

    def __reduce__(self) -> tuple[type[APIConnectionError], tuple[str]]:
        # Pickled without the request, whose headers hold the credential; the message names the call.
        return type(self), (str(self),)


class APITimeoutError(APIConnectionError, _TimeoutException):
    """The request timed out, after every retry. Also a `TimeoutException` of the default HTTP library."""


class ResponseValidationError(CadenyaError):
    """A success answer whose body is not JSON, is truncated, or does not fit the operation's schema."""

    def __init__(self, operation: str, status_code: int, request_id: str | None, reason: str) -> None:
        self.operation, self.status_code, self.request_id, self.reason = operation, status_code, request_id, reason
        super().__init__(
            f"{operation}: the {status_code} response body could not be read as the documented model ({reason})"
            f"{_request_id_suffix(request_id)}"
        )

    def __reduce__(self) -> tuple[type[ResponseValidationError], tuple[str, int, str | None, str]]:
        return type(self), (self.operation, self.status_code, self.request_id, self.reason)


class APIStatusError(CadenyaError):
    """The API answered with an error status. `code` and `message` come from its `Error` body.

    Pickled (to cross a process boundary), it keeps its status, code, message, request id and `Error`; its
    `response` then holds that `Error` and the request id only, none of the other headers, which may carry
    cookies.
    """

    def __init__(self, response: Response[Any], *, code: str, message: str, error: Error | None) -> None:
        self.response = response
        self.status_code = int(response.status_code)
        self.code, self.message, self.error = code, message, error
        self.request_id = request_id_of(response)
        super().__init__(f"{self.status_code} {code}: {message}{_request_id_suffix(self.request_id)}")

    def __reduce__(self) -> tuple[Any, ...]:
        return _unpickled_status_error, (
            type(self),
            self.status_code,
            self.code,
            self.message,
            self.request_id,
            self.error,
        )


def _unpickled_status_error(
    kind: type[APIStatusError], status_code: int, code: str, message: str, request_id: str | None, error: Error | None
) -> APIStatusError:
    headers = {} if request_id is None else {REQUEST_ID_HEADER: request_id}
    content = b"" if error is None else json.dumps(error.to_dict()).encode()
    try:
        status: HTTPStatus | int = HTTPStatus(status_code)
    except ValueError:  # a status HTTPStatus does not know, kept as the number
        status = status_code
    response: Response[Any] = Response(status_code=status, content=content, headers=headers, parsed=error)  # type: ignore[arg-type]
    return kind(response, code=code, message=message, error=error)


class BadRequestError(APIStatusError):
    """400: the request was malformed."""


class AuthenticationError(APIStatusError):
    """401: the token is missing, unknown, revoked or rotated."""


class PermissionDeniedError(APIStatusError):
    """403: the token may not do this."""


class NotFoundError(APIStatusError):
    """404: no such resource in this account."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the current state (e.g. `api_key_limit_reached`)."""


class UnprocessableEntityError(APIStatusError):
    """422: the body does not fit the operation."""


class RateLimitError(APIStatusError):
    """429: too many requests; retried automatically up to `max_retries`.

    `retry_after` is the wait the API asked for, in seconds, read when the answer arrived.
    """

    def __init__(self, response: Response[Any], *, code: str, message: str, error: Error | None) -> None:
        super().__init__(response, code=code, message=message, error=error)
        self._retry_after = retry_after_seconds(response.headers)

    @property
    def retry_after(self) -> float | None:
        """Seconds to wait before sending the request again, as the answer asked: `retry-after-ms`, else
        `Retry-After` (seconds, or an HTTP-date counted from when the answer arrived). None when neither
        gives a positive, finite wait."""
        return self._retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        # The wait travels as state: the unpickled response keeps the request id alone of its headers.
        return (*super().__reduce__(), {"_retry_after": self._retry_after})


class InternalServerError(APIStatusError):
    """5xx: the API failed."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _request_id_suffix(request_id: str | None) -> str:
    return f" (request id {request_id})" if request_id else ""


def request_id_of(response: Response[Any] | HTTPResponse) -> str | None:
    """The `X-Request-Id` the API gave this response, if any."""
    return response.headers.get(REQUEST_ID_HEADER)


def _error_body(response: Response[Any]) -> Error | None:
    """The response's `Error`: parsed, or read from the body of a status the operation does not document."""
    if isinstance(response.parsed, Error):
        return response.parsed
    try:
        return Error.from_dict(json.loads(response.content))
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None


def status_error(response: Response[Any]) -> APIStatusError:
    """The exception for an error response, whatever its body."""
    status = int(response.status_code)
    parsed = _error_body(response)
    code: str
    if isinstance(parsed, Error):
        code, message, error = parsed.code, parsed.message, parsed
    else:
        try:
            code, message, error = "unknown", HTTPStatus(status).phrase, None
        except ValueError:
            code, message, error = "unknown", "unexpected status", None
    kind = _BY_STATUS.get(status, InternalServerError if status >= 500 else APIStatusError)
    return kind(response, code=code, message=message, error=error)


def unwrap(response: Response[T | Error], *, no_content: Collection[int] = (204,)) -> T:
    """The success model of `response`, or the typed exception for its status.

    `no_content` are the success statuses the operation answers without a body (204 for `revokeApiKey`):
    they unwrap to None. Every non-2xx status raises an `APIStatusError` subclass carrying the status, the
    `Error`'s code and message, and the request id. Any other success status without a documented answer
    (a status the spec does not list for the operation, a 204 of an operation that answers a body, a body
    that fits none of its shapes) raises `UnexpectedStatus`: there is no model to return. Pass
    `no_content=()` for an operation that always answers a body.
    """
    status = int(response.status_code)
    if 200 <= status < 300 and not isinstance(response.parsed, Error):
        if response.parsed is None and status not in no_content:
            raise UnexpectedStatus(status, response.content)
        return response.parsed  # type: ignore[return-value]
    raise status_error(response)


def parsed_answer(response: Response[T], *, no_content: Collection[int], documented: Collection[tuple[int, int]]) -> T:
    """What the plain call styles (`sync`, `asyncio`) return: the success model, or the `Error` of a
    documented error status; never a None that stands for "something else".

    `documented` are the operation's statuses (inclusive ranges), `no_content` those it answers without a
    body, with None. A status the operation does not document (a 204 included), or a success answer whose
    body fits none of its shapes, raises `UnexpectedStatus`; a documented error status whose body is not an
    `Error` (a proxy's page, say) raises the typed `APIStatusError` subclass of its status.
    """
    parsed = response.parsed
    if parsed is not None:
        return parsed
    status = int(response.status_code)
    if status in no_content:
        return parsed  # type: ignore[return-value]  # None is that operation's documented answer
    if status < 400 or not any(low <= status <= high for low, high in documented):
        raise UnexpectedStatus(status, response.content)
    raise status_error(response)


# Each exception names the module it is imported from, not this private one: a traceback says
# `cadenya.NotFoundError: 404 ...`, and pickle finds the class there (`cadenya` re-exports every one).
for _public in (
    CadenyaError,
    ConfigurationError,
    InvalidPathParameterError,
    UnexpectedStatus,
    ResponseTooLargeError,
    PageRepeatedError,
    PageLimitError,
    APIConnectionError,
    APITimeoutError,
    ResponseValidationError,
    APIStatusError,
    BadRequestError,
    AuthenticationError,
    PermissionDeniedError,
    NotFoundError,
    ConflictError,
    UnprocessableEntityError,
    RateLimitError,
    InternalServerError,
):
    _public.__module__ = "cadenya"
del _public
