"""Counts in messages, with the noun in the number it takes: "1 retry", "2 retries", "0.5 seconds"."""

from __future__ import annotations


def counted(count: float, singular: str, plural: str | None = None) -> str:
    """`count` and the noun it takes: `singular` for exactly 1, else `plural` (by default `singular` + "s").

    Whole numbers print without a decimal point and others as `:g` does: `counted(2.0, "second")` is
    "2 seconds", `counted(1.5, "second")` "1.5 seconds".
    """
    noun = singular if count == 1 else (plural if plural is not None else singular + "s")
    return f"{count:g} {noun}"
