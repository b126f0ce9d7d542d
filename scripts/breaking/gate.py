"""Whether the changes may land: the escape hatches, the verdict and the report.

A BREAKING change fails the gate unless
* the major version in pyproject.toml is higher than the base's, or
* an entry of `.breaking-allow` (added since the base) names its rule, with a reason:

      # rule-id [subject pattern]: reason
      response-field-removed getAccount 200 Account.name: the field was never filled in
      python-parameter-removed *list_api_keys*: the filter moved to the request body

  The pattern is a shell-style glob matched against the whole subject (default `*`, every subject).
  Entries the base's `.breaking-allow` already has were for an earlier release and are ignored, so the
  file never needs emptying.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from scripts.breaking.model import Change, Classification, Rule

ALLOW_FILE = ".breaking-allow"


@dataclass(frozen=True)
class AllowEntry:
    """One line of `.breaking-allow`: the rule it allows, where (a glob of subjects), and why."""

    rule_id: str
    pattern: str
    reason: str

    def allows(self, change: Change) -> bool:
        return change.rule.id == self.rule_id and fnmatch.fnmatchcase(change.subject, self.pattern)


def parse_allow(text: str, rules: Mapping[str, Rule]) -> list[AllowEntry]:
    """The entries of an allow file; a ValueError for a line without a reason or with an unknown rule."""
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head, _, reason = line.partition(": ")
        rule_id, _, pattern = head.strip().partition(" ")
        if not reason.strip():
            raise ValueError(f"{ALLOW_FILE}:{number}: every entry needs a reason: `rule-id [pattern]: reason`")
        if rule_id not in rules:
            raise ValueError(f"{ALLOW_FILE}:{number}: unknown rule {rule_id!r}")
        entries.append(AllowEntry(rule_id, pattern.strip() or "*", reason.strip()))
    return entries


def new_entries(base: Iterable[AllowEntry], current: Iterable[AllowEntry]) -> list[AllowEntry]:
    """The entries of `current` the base does not have (by rule and pattern)."""
    known = {(entry.rule_id, entry.pattern) for entry in base}
    return [entry for entry in current if (entry.rule_id, entry.pattern) not in known]


def project_version(root: Path) -> Version | None:
    """The `project.version` of `root`'s pyproject.toml, if it has a valid one."""
    try:
        document = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        return Version(document["project"]["version"])
    except (FileNotFoundError, KeyError, InvalidVersion, tomllib.TOMLDecodeError):
        return None


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str
    allowed: Mapping[Change, AllowEntry]


def decide(
    changes: Iterable[Change], base_version: Version | None, new_version: Version | None, allow: Iterable[AllowEntry]
) -> Verdict:
    """Pass when nothing is BREAKING, when the major version was bumped, or when every break is allowed."""
    entries = list(allow)
    breaking = [change for change in changes if change.classification is Classification.BREAKING]
    allowed = {}
    for change in breaking:
        entry = next((entry for entry in entries if entry.allows(change)), None)
        if entry is not None:
            allowed[change] = entry
    if not breaking:
        return Verdict(True, "nothing breaking", allowed)
    if base_version is not None and new_version is not None and new_version.major > base_version.major:
        return Verdict(True, f"major version bumped ({base_version} -> {new_version})", allowed)
    if len(allowed) == len(breaking):
        return Verdict(True, f"every breaking change is allowed by {ALLOW_FILE}", allowed)
    refused = len(breaking) - len(allowed)
    version = f" ({base_version})" if base_version is not None else ""
    return Verdict(
        False,
        f"{refused} breaking change(s) without a major version bump{version} or a {ALLOW_FILE} entry",
        allowed,
    )


def line(change: Change, allowed_by: AllowEntry | None = None) -> str:
    """One change: classification, level, rule, subject (and detail), and the rule's reasoning."""
    detail = f" [{change.detail}]" if change.detail else ""
    allowed = f"  [allowed: {allowed_by.reason}]" if allowed_by is not None else ""
    rule = change.rule
    return (
        f"{change.classification.value:<10}  {rule.level.value:<9}  {rule.id:<28}  {change.subject}{detail}"
        f"  (rule: {rule.summary}: {rule.reason}){allowed}"
    )


def report(changes: list[Change], verdict: Verdict, base: str) -> str:
    """The whole report: one line per change, then the summary."""
    if not changes:
        return f"no changes against {base}: PASSED\n"
    counts = {classification: 0 for classification in Classification}
    for change in changes:
        counts[change.classification] += 1
    tally = ", ".join(f"{count} {classification.label}" for classification, count in counts.items())
    outcome = "PASSED" if verdict.passed else "FAILED"
    lines = [line(change, verdict.allowed.get(change)) for change in changes]
    lines.append(f"{len(changes)} change(s) against {base}: {tally}; {outcome}: {verdict.reason}")
    return "\n".join(lines) + "\n"
