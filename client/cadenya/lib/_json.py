"""JSON bodies into Python values: with orjson when it is installed (`pip install 'cadenya[speedups]'`).

Every response body the generated operations parse goes through `loads`. orjson parses a page of keys
in about two thirds of the standard library's time. It is also stricter (it refuses NaN, a number too
large for a double, a byte order mark, a lone surrogate, UTF-16), so a body it refuses is handed to the
standard library, which decides: with or without orjson, the same bodies parse, to the same values. The
one difference: orjson reads an integer beyond 64 bits as a float (the API sends none; its integers are
counts). A body that does not parse raises `json.JSONDecodeError` (a ValueError) whichever parser
refused it, and so does one nested too deeply to parse (where the standard library alone would raise
RecursionError). Neither message quotes the body.

orjson is imported on the first parse, not with the package: importing it takes longer than a call.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Parser = Callable[[bytes | str], Any]


def loads_stdlib(body: bytes | str) -> Any:
    """The standard library's parse of `body` (UTF-8, -16 or -32 bytes, or text)."""
    try:
        return json.loads(body)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply to parse", "", 0) from None


def loads_orjson(body: bytes | str) -> Any:
    """orjson's parse of `body`, or the standard library's for a body that orjson refuses."""
    import orjson

    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass  # outside the handler: a body neither parser reads does not chain orjson's error to the other
    return loads_stdlib(body)


_parser: Parser | None = None


def parser() -> Parser:
    """The parser `loads` uses: `loads_orjson` when orjson can be imported, else `loads_stdlib`."""
    global _parser
    if _parser is None:
        try:
            import orjson  # noqa: F401  (only whether it imports)
        except ImportError:  # the speedups extra is not installed
            _parser = loads_stdlib
        else:
            _parser = loads_orjson
    return _parser


def speedups() -> bool:
    """Whether orjson is installed, so that `loads` uses it."""
    return parser() is loads_orjson


def loads(body: bytes | str) -> Any:
    """`body` parsed: by orjson when installed, else by the standard library, to the same values."""
    return (_parser or parser())(body)
