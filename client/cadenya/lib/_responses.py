"""How an operation module reads the answers its spec documents: a table, one row per way of reading a body.

Each generated module holds one `ResponseTable`, built from the statuses of its operation in openapi.yaml:

    _RESPONSES: ResponseTable[APIKey | Error] = ResponseTable(
        (APIKey.from_dict, "200"),
        (Error.from_dict, "400 401 403 404 409 422 429 5XX"),
    )

A row is `(reader, patterns)` or `(reader, patterns, source)`. `patterns` are the spec's status keys, space
separated: a code (`404`), a range (`5XX`) or `default`. `reader` turns the body into the answer's model;
None means the answer has no body (a 204). `source` is what the reader is given: the JSON body decoded
("json", the default, by `cadenya.lib._json`), the raw bytes ("content") or the text ("text").

A code takes precedence over a range, and a range over `default`, as openapi-python-client's own
`_parse_response` checks them. A status no row names is `UnexpectedStatus` when the client has
`raise_on_unexpected_status`, else None.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from .. import errors  # `cadenya.errors`, the module the docstrings name, is loaded with every operation
from . import _json
from ._http import HTTPResponse

T = TypeVar("T")

Reader = Callable[[Any], T] | None
_Row = tuple[Reader[T], str]


class _StatusPolicy(Protocol):
    """The one client setting a table reads."""

    @property
    def raise_on_unexpected_status(self) -> bool: ...


def status_range(pattern: str) -> tuple[int, int]:
    """The inclusive status range of a spec pattern: `404` -> (404, 404), `5XX` -> (500, 599)."""
    if len(pattern) == 3 and pattern.endswith("XX") and pattern[0].isdigit():
        first = int(pattern[0]) * 100
        return (first, first + 99)
    code = int(pattern)
    return (code, code)


def _decoded(response: HTTPResponse, source: str) -> Any:
    if source == "json":
        return _json.loads(response.content)
    if source == "text":
        return response.text
    if source == "content":
        return response.content
    raise ValueError(f"unknown body source {source!r}")


class ResponseTable(Generic[T]):
    """The documented answers of one operation, and how each one's body is read."""

    __slots__ = ("_default", "_exact", "_ranges", "documented", "no_content")

    def __init__(self, *rows: tuple[Reader[T], str] | tuple[Reader[T], str, str]) -> None:
        self._exact: dict[int, tuple[Reader[T], str]] = {}
        self._ranges: list[tuple[int, int, tuple[Reader[T], str]]] = []
        self._default: tuple[Reader[T], str] | None = None
        documented: list[tuple[int, int]] = []
        for row in rows:
            reader, patterns = row[0], row[1]
            read = (reader, row[2] if len(row) == 3 else "json")
            for pattern in patterns.split():
                if pattern == "default":
                    self._default = read
                    continue
                low, high = status_range(pattern)
                documented.append((low, high))
                if low == high:
                    self._exact[low] = read
                else:
                    self._ranges.append((low, high, read))
        documented.sort()
        self.documented: tuple[tuple[int, int], ...] = ((100, 599),) if self._default else tuple(documented)
        """The statuses the spec documents for this operation, as inclusive ranges."""
        self.no_content: tuple[int, ...] = tuple(
            sorted(code for code, (reader, _) in self._exact.items() if reader is None and 200 <= code < 300)
        )
        """The success statuses this operation answers without a body."""

    def __repr__(self) -> str:
        return f"ResponseTable(documented={self.documented!r}, no_content={self.no_content!r})"

    def _row(self, status: int) -> tuple[Reader[T], str] | None:
        row = self._exact.get(status)
        if row is not None:
            return row
        for low, high, ranged in self._ranges:
            if low <= status <= high:
                return ranged
        return self._default

    def parse(self, *, client: _StatusPolicy, response: HTTPResponse) -> T | None:
        """The answer's model; None for a body-less answer, or an undocumented status unless the client raises."""
        row = self._row(response.status_code)
        if row is None:
            if client.raise_on_unexpected_status:
                raise errors.UnexpectedStatus(response.status_code, response.content)
            return None
        reader, source = row
        if reader is None:
            return None
        return reader(_decoded(response, source))


def as_is(value: T) -> T:
    """The reader of an answer whose body is its value (bytes or text, as the spec types it)."""
    return value
