"""The test matrix: every supported CPython against the lowest declared and the newest allowed dependencies.

    nox                         every cell (`make matrix`; `make test` runs it through scripts/ci.py)
    nox -s tests-3.12           one Python, both dependency sets

"lowest" installs the lower bound of every runtime dependency declared in pyproject.toml, exactly;
"newest" lets pip pick the newest versions those declarations allow. The test tools themselves are the
pinned `test` extra in both. An interpreter this machine lacks is reported as skipped, by name.
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
    "import platform; from importlib.metadata import version; "
    "print(platform.python_implementation(), platform.python_version(), "
    "*(f'{name} {version(name)}' for name in ('httpx', 'httpcore', 'attrs', 'anyio')))"
)


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
