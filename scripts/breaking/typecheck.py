"""The type-check level: the base's own users of the client, checked against the new client.

The base's `examples/`, its end-to-end tests (`tests/test_e2e_*.py`) and the modules of `tests/` they
import are copied to a scratch directory and checked by mypy with the project's configuration (strict),
with the working tree's `client/` first on the path. Each error is code that worked with the base and no
longer type-checks: a breaking change.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from scripts.breaking.model import Change, Classification, Level, Rule

TYPECHECK_ERROR = Rule(
    "typecheck-error",
    Level.TYPECHECK,
    Classification.BREAKING,
    "the base's examples or end-to-end tests no longer type-check against the new client",
    "code written against the base fails mypy --strict with the new client",
)
RULES = {TYPECHECK_ERROR.id: TYPECHECK_ERROR}

_ERROR = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+)(?::\d+)?: error: (?P<message>.*)$")


def _tests_imported(source: str) -> set[str]:
    """The `tests.*` modules a module imports."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names if alias.name.startswith("tests."))
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            if node.module == "tests":
                modules.update(f"tests.{alias.name}" for alias in node.names)
            elif node.module.startswith("tests."):
                modules.add(node.module)
    return modules


def users(base: Path) -> list[Path]:
    """The files, relative to `base`, that use the client: examples, end-to-end tests and their test helpers."""
    found = {path.relative_to(base) for path in (base / "examples").rglob("*.py")}
    pending = [path.relative_to(base) for path in (base / "tests").glob("test_e2e_*.py")]
    while pending:
        path = pending.pop()
        if path in found:
            continue
        found.add(path)
        for module in _tests_imported((base / path).read_text(encoding="utf-8")):
            candidate = Path(*module.split(".")).with_suffix(".py")
            if (base / candidate).is_file():
                pending.append(candidate)
    if any(path.parts[0] == "tests" for path in found) and (base / "tests" / "__init__.py").is_file():
        found.add(Path("tests/__init__.py"))
    return sorted(found)


def check(base: Path, new_client: Path, config: Path, cache_dir: Path, scratch: Path) -> list[Change]:
    """mypy's errors in the base's users of the client (see `users`) checked against `new_client`."""
    files = users(base)
    if not files:
        return []
    for path in files:
        (scratch / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(base / path, scratch / path)
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(config),
        "--cache-dir",
        str(cache_dir),
        "--no-pretty",
        "--no-color-output",
        "--no-error-summary",
        "--hide-error-context",
        *(str(path) for path in files),
    ]
    env = os.environ | {"MYPYPATH": str(new_client)}
    result = subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True, check=False)
    if result.returncode not in (0, 1):
        raise RuntimeError(f"mypy failed to run (exit {result.returncode}):\n{result.stdout}{result.stderr}")
    changes = []
    for line in result.stdout.splitlines():
        match = _ERROR.match(line)
        if match:
            subject = f"{Path(match['file']).as_posix()}:{match['line']}"
            changes.append(Change(TYPECHECK_ERROR, subject, match["message"]))
    if result.returncode == 1 and not changes:
        raise RuntimeError(f"mypy reported failure without errors:\n{result.stdout}{result.stderr}")
    return sorted(set(changes), key=lambda change: change.sort_key)
