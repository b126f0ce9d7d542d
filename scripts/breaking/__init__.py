"""The breaking-change gate (`make breaking`): what changed since a base, and whether it may land.

Three levels: the wire (`wire`: openapi.yaml against the base's), the Python surface (`python_surface`:
griffe on the two `cadenya` packages) and the base's users of the client (`typecheck`: its examples and
end-to-end tests under mypy against the new client). `gate` decides and reports.
"""

from __future__ import annotations

from scripts.breaking import python_surface, typecheck, wire
from scripts.breaking.model import Rule

RULES: dict[str, Rule] = wire.RULES | python_surface.RULES | typecheck.RULES
"""Every rule of every level, by id."""


def rules_table() -> str:
    """The rules as a Markdown table, for the README."""
    rows = ["| rule | level | classification | when | why |", "|---|---|---|---|---|"]
    for rule in RULES.values():
        # A pipe inside a cell, even in a code span, would end the cell.
        summary, reason = rule.summary.replace("|", "\\|"), rule.reason.replace("|", "\\|")
        rows.append(f"| `{rule.id}` | {rule.level.value} | {rule.classification.label} | {summary} | {reason} |")
    return "\n".join(rows) + "\n"
