"""`import httpx` gives httpx2 (and `import httpcore` httpcore2) in every process started with this folder on
PYTHONPATH: the test processes of the matrix's httpx2 cells (scripts/pytest_over_httpx2.py).

The module is imported on first use, not here: importing httpx2 at start-up would import anyio before
pytest could load anyio's plugin. Where httpx2 is not installed (a fresh venv a test makes), httpx stays httpx.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

ALIASES = {"httpx": "httpx2", "httpcore": "httpcore2"}


class Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """The finder and loader of the aliased names."""

    def __init__(self) -> None:
        self.specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(self, name: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        root = name.partition(".")[0]
        if root not in ALIASES or importlib.util.find_spec(ALIASES[root]) is None:
            return None
        return importlib.machinery.ModuleSpec(name, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        root, dot, rest = spec.name.partition(".")
        module = importlib.import_module(ALIASES[root] + dot + rest)
        self.specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system set the alias's spec on the module; httpx2's own code expects its own.
        module.__spec__ = self.specs[module.__spec__.name if module.__spec__ else module.__name__]


def install() -> None:
    if not any(isinstance(finder, Alias) for finder in sys.meta_path):
        sys.meta_path.insert(0, Alias())


install()
