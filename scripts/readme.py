"""The parts of README.md and CONTRIBUTING.md generated from openapi.yaml (or the gate's rules), between
`<!-- generated:NAME -->` markers.

`make generate` rewrites them; `make check` fails when they differ from what the spec gives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from scripts.breaking import rules_table

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CONTRIBUTING = ROOT / "CONTRIBUTING.md"
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
        elif len(answered_by) > 2:
            who = f"{len(answered_by)} operations"
        elif answered_by:
            who = ", ".join(answered_by)
        else:
            who = "any path, outside the operations"
        status = ", ".join(sorted(statuses)) if statuses else description.split(":", 1)[0]
        meaning = description.split(": ", 1)[1]
        rows.append(f"| `{code}` | {status} | {meaning} | {who} |")
    return "\n".join(rows) + "\n"


def breaking_rules_table(spec: dict[str, Any]) -> str:
    """The rules of `make breaking`, from their definitions (the spec plays no part)."""
    return rules_table()


Build = Callable[[dict[str, Any]], str]
README_SECTIONS: dict[str, Build] = {"error-codes": error_codes_table}
CONTRIBUTING_SECTIONS: dict[str, Build] = {"breaking-rules": breaking_rules_table}
DOCUMENTS = ((README, README_SECTIONS), (CONTRIBUTING, CONTRIBUTING_SECTIONS))


def render(
    text: str, spec: dict[str, Any], sections: Mapping[str, Build] | None = None, name: str = "README.md"
) -> str:
    """`text` with every generated section of `sections` (the README's by default) replaced by what `spec` gives."""
    for section, build in (README_SECTIONS if sections is None else sections).items():
        start, end = f"<!-- generated:{section} -->\n", f"<!-- /generated:{section} -->"
        head, found, rest = text.partition(start)
        if not found:
            raise ValueError(f"{name} has no {start.strip()} marker")
        _, found, tail = rest.partition(end)
        if not found:
            raise ValueError(f"{name} has no {end} marker")
        text = head + start + build(spec) + end + tail
    return text


def expected_documents(root: Path = ROOT, spec_path: Path = SPEC) -> list[tuple[Path, str, str]]:
    """(path, text as it is, text as the spec says it should be) of README.md and CONTRIBUTING.md."""
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    found = []
    for path, sections in DOCUMENTS:
        document = root / path.name
        current = document.read_text(encoding="utf-8")
        found.append((document, current, render(current, spec, sections, path.name)))
    return found
