"""Interleaved measurement, and rows that say whether a ratio is within noise of its target.

Every contender of a comparison runs once per round, in an order that reverses every round, so a burst of
background load lands on all of them alike. A row keeps the per-round ratio ours / reference: its median
is the figure, its interquartile range the spread, and the verdict compares the whole range with the target.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

MET = "met"
MISSED = "MISSED"
WITHIN_NOISE = "within noise"


@dataclass(frozen=True)
class Target:
    """`ratio <= bound` (a cost) or `ratio >= bound` (a throughput)."""

    comparison: Literal["<=", ">="]
    bound: float

    def __str__(self) -> str:
        return f"{self.comparison} {self.bound:g}"


def at_most(bound: float) -> Target:
    return Target("<=", bound)


def at_least(bound: float) -> Target:
    return Target(">=", bound)


def spread(values: Sequence[float]) -> tuple[float, float]:
    """The interquartile range of `values` (both ends equal for a single value)."""
    if len(values) < 2:
        return values[0], values[0]
    lower, _, upper = statistics.quantiles(values, n=4, method="inclusive")
    return lower, upper


def verdict(target: Target, ratios: Sequence[float]) -> str:
    """MET when the whole interquartile range meets the target, MISSED when none of it does, else noise."""
    lower, upper = spread(ratios)
    if target.comparison == "<=":
        return MET if upper <= target.bound else MISSED if lower > target.bound else WITHIN_NOISE
    return MET if lower >= target.bound else MISSED if upper < target.bound else WITHIN_NOISE


@dataclass
class Row:
    """One comparison: medians of both sides, and the ratio of each round."""

    measure: str
    ours: Sequence[float]
    reference_name: str
    reference: Sequence[float]
    unit: str
    target: Target | None = None
    note: str = "(info)"
    ratios: Sequence[float] = field(default=())

    def __post_init__(self) -> None:
        if not self.ratios:
            self.ratios = [ours / reference for ours, reference in zip(self.ours, self.reference, strict=True)]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    def verdict(self) -> str:
        return self.note if self.target is None else verdict(self.target, self.ratios)


def interleaved(
    contenders: Mapping[str, Callable[[], object]], *, number: int, rounds: int, call_by_call: bool = False
) -> dict[str, list[float]]:
    """Seconds per call of each contender in each round of `number` calls, the order reversed every round.

    By default each contender makes its `number` calls in one block, after a collection, so each starts from
    the same state; what the collector does during the block, the block pays for, as a caller would, and the
    block ends with a collection of the youngest generation, so that work a contender leaves the collector
    (such as a decode that paused it) is paid by that contender, not by the next. With
    `call_by_call`, the contenders take turns call by call (the order reversing every turn), each call is timed
    on its own and a round's figure is the median call: for calls long enough that the clock's cost does not
    count (a round trip), noise then reaches every contender alike, and a stalled call does not move the figure.
    """
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds):
        order = names if round_index % 2 == 0 else names[::-1]
        if call_by_call:
            gc.collect()
            calls: dict[str, list[float]] = {name: [] for name in names}
            for call_index in range(number):
                for name in order if call_index % 2 == 0 else reversed(order):
                    started = time.perf_counter()
                    contenders[name]()
                    calls[name].append(time.perf_counter() - started)
            for name in names:
                samples[name].append(statistics.median(calls[name]))
            continue
        for name in order:
            function = contenders[name]
            gc.collect()
            started = time.perf_counter()
            for _ in range(number):
                function()
            gc.collect(0)
            samples[name].append((time.perf_counter() - started) / number)
    return samples


SCALE = {"ms": 1e3, "us": 1e6, "s": 1.0, "/s": 1.0, "MB": 1e-6}


def table(rows: Sequence[Row], *, verdicts: bool) -> str:
    """The rows as a fixed-width table; without verdicts (smoke mode), no target column at all."""
    header = f"{'measure':<50}{'ours':>11}  {'reference':<26}{'ref':>11}{'ratio':>7}  {'IQR':<11} {'n':>3}"
    if verdicts:
        header += f"  {'target':<8} verdict"
    lines = [header]
    for row in rows:
        factor = SCALE[row.unit]
        ours = statistics.median(row.ours) * factor
        reference = statistics.median(row.reference) * factor
        lower, upper = spread(row.ratios)
        line = (
            f"{row.measure:<50}{ours:>9.1f}{row.unit:<2}  {row.reference_name:<26}{reference:>9.1f}{row.unit:<2}"
            f"{row.ratio:>7.2f}  {f'{lower:.2f}-{upper:.2f}':<11} {len(row.ratios):>3}"
        )
        if verdicts:
            line += f"  {row.target or ''!s:<8} {row.verdict()}"
        lines.append(line.rstrip())
    return "\n".join(lines)
