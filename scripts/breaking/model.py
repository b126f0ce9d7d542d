"""What the gate reports: a classified change, decided by a named rule."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Classification(enum.Enum):
    """How a change affects code written against the base. The order is the report's order."""

    BREAKING = "BREAKING"
    ADDITIVE = "additive"
    COMPATIBLE = "compatible"

    @property
    def label(self) -> str:
        return "changed, compatible" if self is Classification.COMPATIBLE else self.value


class Level(enum.Enum):
    """Where a change was seen. The order is the report's order."""

    WIRE = "wire"
    PYTHON = "python"
    TYPECHECK = "typecheck"


@dataclass(frozen=True)
class Rule:
    """A named decision: which change it recognises (`summary`) and why it is classified so (`reason`)."""

    id: str
    level: Level
    classification: Classification
    summary: str
    reason: str


@dataclass(frozen=True)
class Change:
    """One difference between the base and the working tree, as one rule classifies it."""

    rule: Rule
    subject: str
    detail: str = ""

    @property
    def classification(self) -> Classification:
        return self.rule.classification

    @property
    def sort_key(self) -> tuple[int, int, str, str]:
        levels, classifications = list(Level), list(Classification)
        return (levels.index(self.rule.level), classifications.index(self.classification), self.rule.id, self.subject)
