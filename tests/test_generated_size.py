"""The generated code stays thin: its lines per operation of the spec, `api/` and `resources/` together."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import load_spec, operations

PACKAGE = Path(__file__).resolve().parent.parent / "client" / "cadenya"
MAX_LINES_PER_OPERATION = 300


def _lines(directory: Path) -> int:
    return sum(len(path.read_text(encoding="utf-8").splitlines()) for path in sorted(directory.rglob("*.py")))


def test_the_generated_code_averages_at_most_300_lines_per_operation() -> None:
    """(lines of cadenya/api + cadenya/resources) / operations of openapi.yaml stays at or under 300."""
    count = len(list(operations(load_spec())))
    api, resources = _lines(PACKAGE / "api"), _lines(PACKAGE / "resources")
    per_operation = (api + resources) / count
    assert per_operation <= MAX_LINES_PER_OPERATION, (
        f"{api} + {resources} lines for {count} operations: {per_operation:.0f} per operation"
    )
