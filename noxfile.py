"""The test matrix: every supported CPython against the lowest declared and the newest allowed dependencies.

    nox                         every cell (`make matrix`; `make test` runs it through scripts/ci.py)
    nox -s tests-3.12           one Python, both dependency sets

"lowest" installs the lower bound of every runtime dependency declared in pyproject.toml, exactly;
"newest" lets pip pick the newest versions those declarations allow. The test tools themselves are the
pinned `test` extra in both. An interpreter this machine lacks is reported as skipped, by name.

The httpx2 cells run the whole suite over httpx2 (scripts/pytest_over_httpx2.py: the SDK and the tests
alike), at the lowest and the newest httpx2 the `httpx2` extra allows, on the oldest and the newest Python.
The httpx2-only cell installs no httpx at all and runs every test but those that run the generator (which
depends on httpx), proving that the SDK and the sandbox never import it.
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
nox.options.default_venv_backend = "venv"
nox.options.download_python = "never"
nox.options.error_on_missing_interpreters = False
nox.options.envdir = str(ROOT / ".nox")


@nox.session(python=PYTHONS)
@nox.parametrize("deps", ["lowest", "newest"])
def tests(session: nox.Session, deps: str) -> None:
    """The whole pytest suite on one interpreter and one dependency set."""
    pins = lowest_pins(runtime_dependencies()) if deps == "lowest" else []
    session.install("-e", ".[test]", *pins)
    session.run("python", "-m", "pip", "check")
    session.run("python", "-c", SHOW_VERSIONS)
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *session.posargs)


@nox.session(python=HTTPX2_PYTHONS)
@nox.parametrize("deps", ["lowest", "newest"])
def httpx2(session: nox.Session, deps: str) -> None:
    """The whole pytest suite over httpx2, at its lowest or newest allowed version."""
    pins = lowest_pins(extra_requirements("httpx2")) if deps == "lowest" else []
    session.install("-e", ".[test,httpx2]", *pins)
    session.run("python", "-m", "pip", "check")
    session.run("python", "-c", SHOW_VERSIONS)
    session.run(
        "python", "-m", "scripts.pytest_over_httpx2", "-q", "-p", "no:cacheprovider", *session.posargs,
        env={"CADENYA_HTTP_LIBRARY": "httpx2"},
    )  # fmt: skip


@nox.session(python=PYTHONS[-1], name="httpx2-only")
def httpx2_only(session: nox.Session) -> None:
    """httpx2 alone, no httpx in the venv: every test but those that import the generator (which needs httpx)."""
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
    ignored = [f"--ignore={path}" for path in tests_needing_the_generator()]
    session.run(
        "python", "-m", "scripts.pytest_over_httpx2", "-q", "-p", "no:cacheprovider", *ignored, *session.posargs,
        env={"CADENYA_HTTP_LIBRARY": "httpx2"},
    )  # fmt: skip
