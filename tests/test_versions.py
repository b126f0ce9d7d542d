"""The one version in pyproject.toml, and the changelog that records each one."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHANGELOG = ROOT / "CHANGELOG.md"


def _pyproject_version() -> str:
    version: str = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    return version


def _changelog_sections() -> list[str]:
    """The version headings of CHANGELOG.md, in order: `Unreleased`, then `X.Y.Z` for each release."""
    return re.findall(r"^## \[([^\]]+)\]", CHANGELOG.read_text(encoding="utf-8"), flags=re.MULTILINE)


def test_the_changelog_has_a_dated_section_for_the_version_in_pyproject() -> None:
    """Releasing a version means writing its `## [X.Y.Z] - YYYY-MM-DD` section in CHANGELOG.md."""
    version = _pyproject_version()
    pattern = rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$"
    assert re.search(pattern, CHANGELOG.read_text(encoding="utf-8"), flags=re.MULTILINE), (
        f"CHANGELOG.md has no `## [{version}] - YYYY-MM-DD` section for pyproject.toml's version"
    )


def test_the_changelog_lists_unreleased_changes_first_then_the_newest_release() -> None:
    """Keep a Changelog order: `[Unreleased]`, then pyproject's version, then the older ones."""
    sections = _changelog_sections()
    assert sections[:2] == ["Unreleased", _pyproject_version()]


def test_the_changelog_releases_go_from_newest_to_oldest() -> None:
    """Each release section is of a lower version than the one above it."""
    releases = [tuple(int(part) for part in s.split(".")) for s in _changelog_sections()[1:]]
    assert releases == sorted(releases, reverse=True)
    assert len(set(releases)) == len(releases)
