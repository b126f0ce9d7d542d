"""`cadenya-sandbox` and `python -m cadenya.sandbox` without the `sandbox` extra: one line that says what to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sandbox_support import ROOT

# Installed beside the interpreter, as pip installs console scripts.
CONSOLE_SCRIPT = Path(sys.executable).parent / "cadenya-sandbox"
ENTRIES = [
    pytest.param([str(CONSOLE_SCRIPT)], id="console-script"),
    pytest.param([sys.executable, "-m", "cadenya.sandbox"], id="python-m"),
]
ALL_OF_THE_EXTRA = ("starlette", "uvicorn", "jsonschema", "referencing", "cryptography", "yaml")
HINT = "pip install 'cadenya[sandbox]'"

# Loaded by every interpreter started with this directory on PYTHONPATH: a finder that refuses the
# blocked modules, as in an install without the extra.
SITECUSTOMIZE = """
import importlib.abc, os, sys
BLOCKED = set(os.environ["BLOCKED_MODULES"].split(","))
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Blocker())
"""


def _run_without(blocked: tuple[str, ...], command: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "BLOCKED_MODULES": ",".join(blocked)}
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=tmp_path, env=env, timeout=60)


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["serve", "--db", "sandbox.db"], id="serve"),
        pytest.param(["create-account", "--db", "sandbox.db", "--name", "Acme"], id="create-account"),
        pytest.param(["--help"], id="help"),
    ],
)
def test_the_command_without_the_extra_prints_one_line_naming_it_and_exits_2(
    entry: list[str], arguments: list[str], tmp_path: Path
) -> None:
    """No traceback: one line on stderr with every missing package and the install command; status 2."""
    result = _run_without(ALL_OF_THE_EXTRA, [*entry, *arguments], tmp_path)
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert result.stderr == (
        "cadenya-sandbox: cadenya.sandbox needs the 'sandbox' extra (missing: cryptography, jsonschema, pyyaml,"
        f" referencing, starlette, uvicorn); install it with: {HINT}\n"
    )
    assert not (tmp_path / "sandbox.db").exists()


@pytest.mark.parametrize("entry", ENTRIES)
def test_the_command_names_only_what_is_missing(entry: list[str], tmp_path: Path) -> None:
    """With one package of the extra missing, the line names that one."""
    result = _run_without(("uvicorn",), [*entry, "serve", "--db", "sandbox.db"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"cadenya-sandbox: cadenya.sandbox needs the 'sandbox' extra (missing: uvicorn); install it with: {HINT}"
    ]


def test_a_name_of_the_package_without_the_extra_raises_what_to_install(tmp_path: Path) -> None:
    """`from cadenya.sandbox import Sandbox` without the extra is a ModuleNotFoundError naming the extra."""
    program = (
        "try:\n"
        "    from cadenya.sandbox import Sandbox\n"
        "except ModuleNotFoundError as error:\n"
        "    print(error.name, error)\n"
    )
    result = _run_without(ALL_OF_THE_EXTRA, [sys.executable, "-c", program], tmp_path)
    assert result.stdout == (
        "starlette cadenya.sandbox needs the 'sandbox' extra (missing: cryptography, jsonschema, pyyaml,"
        f" referencing, starlette, uvicorn); install it with: {HINT}\n"
    ), result.stderr


def test_with_the_extra_the_command_runs(tmp_path: Path) -> None:
    """The check lets an installed extra through: `create-account` prints the account's tokens."""
    result = subprocess.run(
        [str(CONSOLE_SCRIPT), "create-account", "--db", str(tmp_path / "sandbox.db"), "--name", "Acme"],
        capture_output=True, text=True, check=False, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert '"apiKey": "cad_key_' in result.stdout
