"""What the headers of an answer say: read here for the send path (when to retry) and the exceptions."""

from __future__ import annotations

import contextlib
import email.utils
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["REQUEST_ID_HEADER", "attach_request_id", "retry_after_seconds"]

REQUEST_ID_HEADER = "x-request-id"


def attach_request_id(parsed: object, headers: Mapping[str, str]) -> None:
    """Give the model a call parsed (a success model or an `Error`) the request id of its answer, as
    `_request_id`. Anything else (None, a 204's answer) and an answer without the header are left as they are.
    """
    request_id = headers.get(REQUEST_ID_HEADER)
    if request_id is not None and hasattr(parsed, "_request_id"):
        model: Any = parsed
        model._request_id = request_id


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait the server asked for, in seconds: retry-after-ms, then Retry-After as seconds or HTTP-date.

    Only a positive, finite wait counts: zero, a negative number, a date in the past, `nan`, `inf` or garbage
    count as not given, so the normal backoff applies instead of retrying at once.
    """
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        with contextlib.suppress(ValueError):
            seconds = float(milliseconds) / 1000
            if math.isfinite(seconds) and seconds > 0:
                return seconds
    value = headers.get("retry-after")
    if value is None:
        return None
    with contextlib.suppress(ValueError):
        seconds = float(value)
        return seconds if math.isfinite(seconds) and seconds > 0 else None
    with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
        return seconds if seconds > 0 else None
    return None
