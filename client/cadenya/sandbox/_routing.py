"""Routes matched on the path exactly as the client sent it.

A path is split into segments on its literal `/` first, and only then is each segment percent-decoded: a `%2F`
is part of the id it appears in, never a separator, and `.`, `..` or `%2E%2E` are ids like any other text.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

from starlette.routing import Match, Route
from starlette.types import Scope


def raw_segments(scope: Scope) -> list[bytes]:
    """The segments of the request's path as sent, still percent-encoded."""
    raw_path = scope.get("raw_path") or urllib.parse.quote(scope["path"]).encode("ascii")
    return bytes(raw_path).partition(b"?")[0].split(b"/")


def decode_segment(segment: bytes) -> str:
    """One path segment's text: percent-escapes decoded, bytes that are not UTF-8 replaced."""
    return urllib.parse.unquote_to_bytes(segment).decode("utf-8", "replace")


def _is_parameter(template_segment: str) -> bool:
    return template_segment.startswith("{") and template_segment.endswith("}")


def match_segments(template: list[str], segments: list[bytes]) -> dict[str, str] | None:
    """The path parameters when `segments` fit the path `template` segment for segment, else None.

    A parameter takes one whole, non-empty segment: an empty one (`/v1/api-keys/`) fits no route.
    """
    if len(template) != len(segments):
        return None
    parameters: dict[str, str] = {}
    for expected, segment in zip(template, segments, strict=True):
        text = decode_segment(segment)
        if _is_parameter(expected) and text:
            parameters[expected[1:-1]] = text
        elif text != expected:
            return None
    return parameters


class RawPathRoute(Route):
    """A Starlette route whose path parameters come from the raw path, one whole segment each."""

    def __init__(self, path: str, endpoint: Callable[..., Any], *, methods: list[str] | None = None) -> None:
        super().__init__(path, endpoint, methods=methods)
        self.template = path.split("/")

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        parameters = match_segments(self.template, raw_segments(scope))
        if parameters is None:
            return Match.NONE, {}
        child_scope = {"endpoint": self.endpoint, "path_params": parameters}
        if self.methods and scope["method"] not in self.methods:
            return Match.PARTIAL, child_scope
        return Match.FULL, child_scope
