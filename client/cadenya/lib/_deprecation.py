"""`DeprecationWarning` for what the spec marks deprecated, attributed to the caller's line.

The generated code calls `warn_deprecated` only where the spec marks an operation, a parameter or a model
field `deprecated: true`; nothing else pays for it. The warning names the first frame outside this package
(and outside attrs, whose generated `__init__` and `__setattr__` run a field's validator), however deep the
SDK's own frames are: `client.widgets.create(...)`, `create_widget.sync(...)` and `Widget(legacy=...)` all
point at the line that made the call, so Python's `default` action shows it once per call site.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

_PACKAGE = __name__.partition(".")[0]


def _is_internal(frame: Any) -> bool:
    name = str(frame.f_globals.get("__name__", ""))
    if name == _PACKAGE or name.startswith(_PACKAGE + "."):
        return True
    if name in ("attr", "attrs") or name.startswith(("attr.", "attrs.")):
        return True
    return str(frame.f_code.co_filename).startswith("<attrs generated")


def warn_deprecated(message: str) -> None:
    """Warn `DeprecationWarning(message)` at the caller's line: the first frame outside the SDK."""
    frame = sys._getframe(1)
    stacklevel = 2  # 1 is this function's own line, 2 its caller's
    while frame.f_back is not None and _is_internal(frame):
        frame = frame.f_back
        stacklevel += 1
    warnings.warn(message, DeprecationWarning, stacklevel=stacklevel)


class DeprecatedField:
    """An attrs validator for a deprecated model field: warns when the field is given a value other than its
    default, in the constructor or by setting the attribute. `from_dict` sets the field's slot directly, so a
    response that carries the field does not warn; neither do pickling and copying, which restore slots."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, instance: object, attribute: Any, value: object) -> None:
        if value is not attribute.default:
            warn_deprecated(self.message)

    def __repr__(self) -> str:
        return f"DeprecatedField({self.message!r})"
