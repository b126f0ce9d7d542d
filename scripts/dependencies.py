"""The runtime dependencies pyproject.toml declares, and their lowest versions (for noxfile.py's "lowest" cells)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def lowest_pins(dependencies: list[str]) -> list[str]:
    """`name==lower-bound` for each requirement; each must declare exactly one lower bound."""
    pins = []
    for declared in dependencies:
        requirement = Requirement(declared)
        lower = [spec.version for spec in requirement.specifier if spec.operator in (">=", "==", "~=")]
        if len(lower) != 1:
            raise ValueError(f"{declared!r} must declare exactly one lower bound for the lowest-versions run")
        pins.append(f"{requirement.name}=={lower[0]}")
    return pins


def runtime_dependencies() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dependencies: list[str] = project["dependencies"]
    return dependencies
