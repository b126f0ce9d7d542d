"""The test matrix: every supported CPython against the lowest declared and the newest allowed dependencies.

    nox                         every cell (`make matrix`; `make test` runs each cell through scripts/ci.py)
    nox -s tests-3.12           one Python, both dependency sets
    nox -s tests-3.12 -- -x     pytest options after `--`

"lowest" installs the lower bound of every runtime dependency declared in pyproject.toml, exactly;
"newest" lets the resolver pick the newest versions those declarations allow. The test tools themselves are
the pinned `test` extra in both. An interpreter this machine lacks is reported as skipped, by name. uv (the
dev extra's pin) creates each venv, from the indexes pip is configured with (scripts/uv_settings.py).

What a cell runs (cell_tests, tests/tiers.py): not the tests of the tools, documents and the sandbox itself,
which cannot depend on the cell and which `make test` runs once in the dev venv (`make pytest` runs
everything there); every test of the client against its dependencies; and, in the WIRE_CELLS, the client
end to end over real HTTP against the sandbox.

The httpx2 cells run over httpx2 (scripts/pytest_over_httpx2.py: the SDK and the tests alike), at the lowest
and the newest httpx2 the `httpx2` extra allows, on the oldest and the newest Python. The httpx2-only cell
installs no httpx at all and runs its tests but those that run the generator (which depends on httpx),
proving that the SDK and the sandbox never import it.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from scripts.dependencies import lowest_pins, runtime_dependencies  # noqa: E402
from scripts.uv_settings import apply as use_pips_indexes_for_uv  # noqa: E402
from tests.tiers import ONCE, WIRE  # noqa: E402

PYTHONS = ["3.11", "3.12", "3.13"]
SHOW_VERSIONS = (
    "import platform; from importlib.metadata import version, PackageNotFoundError\n"
    "def shown(name):\n"
    "    try:\n"
    "        return f'{name} {version(name)}'\n"
    "    except PackageNotFoundError:\n"
    "        return f'{name} absent'\n"
    "print(platform.python_implementation(), platform.python_version(), "
    "*(shown(name) for name in ('httpx', 'httpcore', 'httpx2', 'httpcore2', 'attrs', 'anyio')))"
)
HTTPX2_PYTHONS = [PYTHONS[0], PYTHONS[-1]]
# The one test tool that needs httpx itself: the generator. The httpx2-only cell installs every other one.
GENERATOR = "openapi-python-client"
# The scripts that import the generator; a test file importing one of them (or the generator) does not run in
# the httpx2-only cell, every other one does.
GENERATOR_MODULES = ("openapi_python_client", "scripts.generate", "scripts.generator", "scripts.resources",
                     "scripts.apiref", "scripts.deprecations")  # fmt: skip


def tests_needing_the_generator() -> list[str]:
    import ast

    needing = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            imported = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                imported = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            if any(name.startswith(GENERATOR_MODULES) for name in imported):
                needing.append(str(path.relative_to(ROOT)))
                break
    return needing


# The cells that also run the end-to-end tests over real HTTP (tests/tiers.py WIRE): each interpreter and each
# HTTP stack (httpx lowest and newest, httpx2 lowest and newest, httpx2 alone) is among them at least once.
# Every cell runs every other test but those run once in the dev venv (`make test`, tests/tiers.py).
WIRE_CELLS = frozenset(
    {
        ("tests", "3.11", "lowest"),
        ("tests", "3.12", "newest"),
        ("httpx2", "3.11", "newest"),
        ("httpx2", "3.13", "lowest"),
        ("httpx2-only", "3.13", "newest"),
    }
)


def cell_tests(kind: str, session: nox.Session, deps: str) -> list[str]:
    """pytest's arguments for a cell: every test file but those it does not run (so not even imported)."""
    skipped = ONCE if (kind, session.python, deps) in WIRE_CELLS else ONCE | WIRE
    return [f"--ignore=tests/{name}" for name in sorted(skipped)]


def put_pyenv_interpreters_on_path() -> None:
    """pyenv keeps each CPython under $PYENV_ROOT/versions/X.Y.Z; its shims run only the selected one.

    Putting the newest patch release of each wanted X.Y first on PATH lets nox find them all.
    """
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = []
    for python in PYTHONS:
        releases = []
        for executable in versions.glob(f"{python}.*/bin/python{python}"):
            patch = re.fullmatch(rf"{re.escape(python)}\.(\d+)", executable.parent.parent.name)
            if patch and executable.is_file():
                releases.append((int(patch.group(1)), executable.parent))
        if releases:
            found.append(str(max(releases)[1]))
    os.environ["PATH"] = os.pathsep.join([*found, os.environ.get("PATH", "")])


def extra_requirements(extra: str) -> list[str]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements: list[str] = project["optional-dependencies"][extra]
    return requirements


put_pyenv_interpreters_on_path()
use_pips_indexes_for_uv()
# uv (pinned by the dev extra, found by nox beside itself) creates each venv and installs into it.
nox.options.default_venv_backend = "uv"
nox.options.download_python = "never"
nox.options.error_on_missing_interpreters = False
nox.options.envdir = str(ROOT / ".nox")


@nox.session(python=PYTHONS)
@nox.parametrize("deps", ["lowest", "newest"])
def tests(session: nox.Session, deps: str) -> None:
    """The cell's tests (cell_tests) on one interpreter and one dependency set."""
    pins = lowest_pins(runtime_dependencies()) if deps == "lowest" else []
    session.install("-e", ".[test]", *pins)
    session.run("uv", "pip", "check")
    session.run("python", "-c", SHOW_VERSIONS)
    selection = cell_tests("tests", session, deps)
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *selection, *session.posargs)


@nox.session(python=HTTPX2_PYTHONS)
@nox.parametrize("deps", ["lowest", "newest"])
def httpx2(session: nox.Session, deps: str) -> None:
    """The cell's tests (cell_tests) over httpx2, at its lowest or newest allowed version."""
    pins = lowest_pins(extra_requirements("httpx2")) if deps == "lowest" else []
    session.install("-e", ".[test,httpx2]", *pins)
    session.run("uv", "pip", "check")
    session.run("python", "-c", SHOW_VERSIONS)
    session.run(
        "python", "-m", "scripts.pytest_over_httpx2", "-q", "-p", "no:cacheprovider", *cell_tests("httpx2", session, deps),
        *session.posargs,
        env={"CADENYA_HTTP_LIBRARY": "httpx2"},
    )  # fmt: skip


@nox.session(python=PYTHONS[-1], name="httpx2-only")
def httpx2_only(session: nox.Session) -> None:
    """httpx2 alone, no httpx in the venv: the cell's tests but those that import the generator (which needs httpx)."""
    runtime = [requirement for requirement in runtime_dependencies() if not requirement.startswith("httpx")]
    tools = [
        requirement for requirement in extra_requirements("test") if not requirement.startswith(("cadenya", GENERATOR))
    ]
    extras = [
        requirement for name in ("httpx2", "http2", "sandbox", "bench") for requirement in extra_requirements(name)
    ]
    session.install("--no-deps", "-e", ".")
    session.install(*runtime, *extras, *tools)
    session.run("python", "-c", "import importlib.util, sys; sys.exit(importlib.util.find_spec('httpx') is not None)")
    session.run("python", "-c", SHOW_VERSIONS)
    generator = [f"--ignore={path}" for path in tests_needing_the_generator()]
    ignored = sorted({*cell_tests("httpx2-only", session, "newest"), *generator})
    session.run(
        "python", "-m", "scripts.pytest_over_httpx2", "-q", "-p", "no:cacheprovider", *ignored, *session.posargs,
        env={"CADENYA_HTTP_LIBRARY": "httpx2"},
    )  # fmt: skip
