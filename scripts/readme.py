"""The parts of README.md that are generated from openapi.yaml, between `<!-- generated:NAME -->` markers.

`make generate` rewrites them; `make check` fails when they differ from what the spec gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from scripts.breaking import rules_table

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SPEC = ROOT / "openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "patch", "delete")


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [item[method] for item in spec["paths"].values() for method in HTTP_METHODS if method in item]


def error_codes_table(spec: dict[str, Any]) -> str:
    """One row per ErrorCode: its statuses, its meaning and the operations that answer it."""
    schema = spec["components"]["schemas"]["ErrorCode"]
    operations = _operations(spec)
    rows = ["| code | status | meaning | answered by |", "|---|---|---|---|"]
    for code, description in zip(schema["enum"], schema["x-enum-descriptions"], strict=True):
        statuses: set[str] = set()
        answered_by: list[str] = []
        for op in operations:
            found = [status for status, codes in op["x-error-codes"].items() if code in codes]
            if found:
                statuses.update(found)
                answered_by.append(f"`{op['operationId']}`")
        if len(answered_by) == len(operations):
            who = "every operation"
        elif answered_by:
            who = ", ".join(answered_by)
        else:
            who = "no operation (any path, outside the operations)"
        status = ", ".join(sorted(statuses)) if statuses else description.split(":", 1)[0]
        meaning = description.split(": ", 1)[1]
        rows.append(f"| `{code}` | {status} | {meaning} | {who} |")
    return "\n".join(rows) + "\n"


def breaking_rules_table(spec: dict[str, Any]) -> str:
    """The rules of `make breaking`, from their definitions (the spec plays no part)."""
    return rules_table()


SECTIONS = {"error-codes": error_codes_table, "breaking-rules": breaking_rules_table}


def render(readme: str, spec: dict[str, Any]) -> str:
    """`readme` with every generated section replaced by what `spec` gives."""
    for name, build in SECTIONS.items():
        start, end = f"<!-- generated:{name} -->\n", f"<!-- /generated:{name} -->"
        head, found, rest = readme.partition(start)
        if not found:
            raise ValueError(f"README.md has no {start.strip()} marker")
        _, found, tail = rest.partition(end)
        if not found:
            raise ValueError(f"README.md has no {end} marker")
        readme = head + start + build(spec) + end + tail
    return readme


def expected(readme_path: Path = README, spec_path: Path = SPEC) -> tuple[str, str]:
    """The README as it is, and as the spec says it should be."""
    current = readme_path.read_text(encoding="utf-8")
    return current, render(current, yaml.safe_load(spec_path.read_text(encoding="utf-8")))
