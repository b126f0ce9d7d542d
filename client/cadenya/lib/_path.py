"""Path parameters as exactly one path segment each.

An id is data. Sent as `quote(id)` alone, `.` and `..` stay as they are, and every HTTP client, httpx
included, resolves them as dot segments (RFC 3986, 5.2.4): `revoke_api_key_workspace(key, "..")` would
send `DELETE /v1/api-keys/{key}`, another operation, with the caller's credential. So a value that is, or
percent-decodes to, `""`, `.` or `..` is refused before anything is sent, and every other value is
percent-encoded whole (`/`, `?`, `#` and `%` included), so the server decodes back exactly the value.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from ._errors import InvalidPathParameterError

__all__ = ["check_no_dot_segments", "path_segment"]

_NOT_A_SEGMENT = frozenset({"", ".", ".."})


def path_segment(name: str, value: object) -> str:
    """`value`, the path parameter `name`, percent-encoded as one segment; raises InvalidPathParameterError."""
    if not isinstance(value, str):
        raise InvalidPathParameterError(name, f"must be a str, not {type(value).__name__}")
    if value in _NOT_A_SEGMENT:
        raise InvalidPathParameterError(name, "is empty" if not value else f"is {value!r}, a dot segment")
    if unquote(value) in _NOT_A_SEGMENT:
        raise InvalidPathParameterError(name, "percent-decodes to an empty or dot segment")
    try:
        return quote(value, safe="")
    except UnicodeEncodeError:
        raise InvalidPathParameterError(name, "is not text that UTF-8 can encode (a lone surrogate)") from None


def check_no_dot_segments(path: str) -> None:
    """Refuse an assembled request path that holds a `.` or `..` segment, plain or percent-encoded."""
    if "/." not in path and "%2" not in path:
        return
    for segment in path.partition("?")[0].split("/")[1:]:
        if unquote(segment) in (".", ".."):
            raise InvalidPathParameterError(None, "holds a dot segment ('.' or '..'), which would send it elsewhere")
