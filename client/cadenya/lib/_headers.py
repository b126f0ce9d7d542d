"""What the headers of an answer say: read here for the send path (when to retry) and the exceptions."""

from __future__ import annotations

import contextlib
import email.utils
import math
from collections.abc import Mapping
from datetime import UTC, datetime

__all__ = ["retry_after_seconds"]


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
