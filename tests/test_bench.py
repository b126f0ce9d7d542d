"""`make bench` reports the spread of its ratios, and calls a ratio within noise when the spread straddles the target."""

from __future__ import annotations

import pytest

from bench.stats import MET, MISSED, WITHIN_NOISE, Row, Target, at_least, at_most, interleaved, spread, table, verdict


@pytest.mark.parametrize(
    ("target", "ratios", "expected"),
    [
        pytest.param(at_most(1.0), [0.80, 0.85, 0.90, 0.95, 0.97], MET, id="cost-all-below"),
        pytest.param(at_most(1.0), [0.90, 0.95, 1.02, 1.05, 1.10], WITHIN_NOISE, id="cost-straddles"),
        pytest.param(at_most(1.0), [1.01, 1.05, 1.10, 1.20, 1.30], MISSED, id="cost-all-above"),
        pytest.param(at_most(1.0), [0.5, 0.9, 0.9, 0.9, 3.0], MET, id="cost-outliers-outside-the-quartiles"),
        pytest.param(at_least(0.97), [0.98, 0.99, 1.00, 1.01], MET, id="throughput-all-above"),
        pytest.param(at_least(0.97), [0.94, 0.96, 0.98, 1.00], WITHIN_NOISE, id="throughput-straddles"),
        pytest.param(at_least(0.97), [0.90, 0.92, 0.93, 0.96], MISSED, id="throughput-all-below"),
    ],
)
def test_the_verdict_compares_the_interquartile_range_with_the_target(
    target: Target, ratios: list[float], expected: str
) -> None:
    """Met when the whole interquartile range meets the target, missed when none of it does, else within noise."""
    assert verdict(target, ratios) == expected


def test_a_row_takes_the_ratio_of_each_round() -> None:
    """A row's ratio is the median of ours / reference round by round, not the ratio of the medians."""
    row = Row("m", [1.0, 2.0, 4.0], "ref", [2.0, 2.0, 2.0], "ms", at_most(1.0))
    assert list(row.ratios) == [0.5, 1.0, 2.0]
    assert row.ratio == 1.0
    assert spread(row.ratios) == (0.75, 1.5)


def test_a_smoke_table_has_no_target_or_verdict() -> None:
    """Without verdicts (the smoke run), the table shows the figures only."""
    row = Row("decode", [0.010, 0.011], "pydantic v2", [0.020, 0.020], "ms", at_most(0.8))
    smoke, full = table([row], verdicts=False), table([row], verdicts=True)
    assert "target" not in smoke
    assert MET not in smoke.splitlines()[1]
    assert full.splitlines()[1].split()[-3:] == ["<=", "0.8", MET]


@pytest.mark.parametrize("call_by_call", [pytest.param(False, id="blocks"), pytest.param(True, id="call-by-call")])
def test_interleaved_rounds_time_every_contender_each_round(call_by_call: bool) -> None:
    """Each contender gets one figure per round and makes `number` calls a round."""
    calls = {"a": 0, "b": 0}

    def count(name: str) -> None:
        calls[name] += 1

    samples = interleaved(
        {"a": lambda: count("a"), "b": lambda: count("b")}, number=3, rounds=4, call_by_call=call_by_call
    )
    assert calls == {"a": 12, "b": 12}
    assert [len(figures) for figures in samples.values()] == [4, 4]


def test_a_block_pays_for_the_young_garbage_it_leaves() -> None:
    """Each block of calls starts after a full collection and ends, inside its timing, with a collection of
    the youngest generation, so a contender that paused the collector is charged for its deferred work."""
    import gc

    events: list[str] = []

    def on_collection(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            events.append(f"collect-{info['generation']}")

    gc.callbacks.append(on_collection)
    gc.disable()  # only the collections interleaved asks for, none the allocations of the test would trigger
    try:
        interleaved({"a": lambda: events.append("a"), "b": lambda: events.append("b")}, number=2, rounds=1)
    finally:
        gc.enable()
        gc.callbacks.remove(on_collection)
    assert events == ["collect-2", "a", "a", "collect-0", "collect-2", "b", "b", "collect-0"]
