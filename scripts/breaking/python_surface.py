"""The Python level: griffe's breaking changes between the base's `cadenya` package and the working tree's.

griffe reads the sources statically (nothing is imported), so both versions load side by side in well under
a second. Every kind of breakage griffe knows is a BREAKING rule here.
"""

from __future__ import annotations

from pathlib import Path

import griffe

from scripts.breaking.model import Change, Classification, Level, Rule

PACKAGE = "cadenya"

RULES: dict[str, Rule] = {
    f"python-{kind.name.lower().replace('_', '-')}": Rule(
        f"python-{kind.name.lower().replace('_', '-')}",
        Level.PYTHON,
        Classification.BREAKING,
        kind.value.lower(),
        "code written against the base may no longer import, call or read it (griffe's check)",
    )
    for kind in griffe.BreakageKind
}
"""One rule per kind of breakage griffe reports, by id."""


def _rule(kind: griffe.BreakageKind) -> Rule:
    return RULES[f"python-{kind.name.lower().replace('_', '-')}"]


def _subject(breakage: griffe.Breakage) -> str:
    parameter = next(
        (value for value in (breakage.old_value, breakage.new_value) if isinstance(value, griffe.Parameter)), None
    )
    return f"{breakage.obj.path}({parameter.name})" if parameter is not None else breakage.obj.path


def _detail(breakage: griffe.Breakage) -> str:
    old, new, kind = breakage.old_value, breakage.new_value, breakage.kind
    if kind is griffe.BreakageKind.PARAMETER_CHANGED_DEFAULT:
        return f"default {old.default} -> {new.default}"
    if kind is griffe.BreakageKind.PARAMETER_CHANGED_KIND:
        return f"{old.kind.value} -> {new.kind.value}"
    if kind is griffe.BreakageKind.OBJECT_CHANGED_KIND:
        return f"{old.value} -> {new.value}"
    if kind is griffe.BreakageKind.CLASS_REMOVED_BASE:
        return f"bases {[base.canonical_path for base in old]} -> {[base.canonical_path for base in new]}"
    return breakage.details


def compare(base_client: Path, new_client: Path) -> list[Change]:
    """griffe's breakages of the package under `new_client` relative to the one under `base_client`."""
    old = griffe.load(PACKAGE, search_paths=[base_client], allow_inspection=False, resolve_aliases=False)
    new = griffe.load(PACKAGE, search_paths=[new_client], allow_inspection=False, resolve_aliases=False)
    changes = {
        Change(_rule(breakage.kind), _subject(breakage), _detail(breakage))
        for breakage in griffe.find_breaking_changes(old, new)
    }
    return sorted(changes, key=lambda change: change.sort_key)
