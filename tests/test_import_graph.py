"""No import circle in the shipped package, at run time or for the type checker.

The graph is grimp's: every `import` and `from ... import` of a module of `cadenya`, at module level, in a
function or under `if TYPE_CHECKING:`, resolved to the module of the package it names. A cycle is a
strongly connected component of that graph (Tarjan), named by one circular chain of imports in it.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import cadenya
from cadenya.sandbox._spec import Spec


def import_graph(package: str) -> grimp.ImportGraph:
    """Every import between the modules of `package`, type-only and function-level ones included."""
    return grimp.build_graph(package, exclude_type_checking_imports=False, cache_dir=None)


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """One circular chain of imports (first module repeated last) per strongly connected component."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1 or module in graph.find_modules_directly_imported_by(module):
                components.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    found = []
    for component in sorted(components):
        start = component[0]
        following = sorted(set(graph.find_modules_directly_imported_by(start)) & set(component))[0]
        chain = graph.find_shortest_chain(importer=following, imported=start) or (following, start)
        found.append([start, *chain])
    return found


def describe(graph: grimp.ImportGraph, cycle: list[str]) -> str:
    """`a -> b -> a`, each import with its line."""
    steps = []
    for importer, imported in itertools.pairwise(cycle):
        details = graph.get_import_details(importer=importer, imported=imported)
        where = f" (line {details[0]['line_number']}: {details[0]['line_contents']})" if details else ""
        steps.append(f"{importer} -> {imported}{where}")
    return "\n  ".join(steps)


def test_the_shipped_package_has_no_import_cycle() -> None:
    """No chain of imports between modules of cadenya leads back to where it started."""
    graph = import_graph("cadenya")
    assert len(graph.modules) > 100, "the graph does not hold the package's modules"
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(f"- {describe(graph, cycle)}" for cycle in found)


TANGLED = {
    "__init__.py": "",
    "runtime_a.py": "from . import runtime_b\n",
    "runtime_b.py": "def f():\n    from .runtime_a import g\n    return g\n",
    "typed_a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .typed_b import B\n",
    "typed_b.py": "from .typed_a import A\n",
    "leaf.py": "from .typed_b import A\n",
}


@pytest.fixture
def tangled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A package with a function-level circle and a type-only circle, importable by name."""
    package = tmp_path / "tangled_package"
    package.mkdir()
    for name, text in TANGLED.items():
        (package / name).write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return package.name


@pytest.mark.parametrize(
    "cycle",
    [
        pytest.param(["runtime_a", "runtime_b", "runtime_a"], id="function-level-import"),
        pytest.param(["typed_a", "typed_b", "typed_a"], id="type-checking-import"),
    ],
)
def test_a_cycle_is_found_and_named(tangled: str, cycle: list[str]) -> None:
    """A circle through a function's import or a TYPE_CHECKING import is reported, and only the circle."""
    found = cycles(import_graph(tangled))
    assert [f"{tangled}.{module}" for module in cycle] in found
    assert len(found) == 2


def test_the_sandbox_app_has_every_handler_once_imported() -> None:
    """Importing the app alone (no create_app) gives it the handler of every operation of the spec."""
    program = "import cadenya.sandbox._app as app; print(' '.join(sorted(app.HANDLERS)))"
    output = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert output.split() == sorted(operation.operation_id for operation in Spec().operations)


def test_the_graph_covers_the_shipped_files() -> None:
    """Every .py file of the installed package is a module of the graph."""
    root = Path(cadenya.__file__).parent
    files = {
        ".".join(("cadenya", *path.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
        for path in root.rglob("*.py")
    }
    assert files <= set(import_graph("cadenya").modules)
