"""A user's program that gives the SDK its own httpx or httpx2 clients type-checks with `mypy --strict` against
the installed package (no project configuration), and runs against the sandbox; a wrong http_client= does not
type-check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import NEEDS_HTTPX, NEEDS_HTTPX2
from tests.sandbox_support import ROOT, SandboxServer

SCRIPTS = ROOT / "tests" / "typing"
USER_SCRIPTS = ("user_httpx.py", "user_httpx2.py")


SCRIPT_PARAMS = [
    pytest.param("user_httpx.py", marks=NEEDS_HTTPX, id="user_httpx.py"),
    pytest.param("user_httpx2.py", marks=NEEDS_HTTPX2, id="user_httpx2.py"),
]
# Run, the httpx script works wherever `import httpx` does (in the httpx2 cells it is httpx2 under that name).
RUN_PARAMS = ["user_httpx.py", pytest.param("user_httpx2.py", marks=NEEDS_HTTPX2, id="user_httpx2.py")]


def strict_mypy(tmp_path: Path, script: Path) -> subprocess.CompletedProcess[str]:
    """`mypy --strict script`, run outside the repository with an empty configuration and a fresh cache, so
    that it sees `cadenya` as the installed package, as a user's checker does."""
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n", encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(config), "--cache-dir",
         str(tmp_path / "mypy-cache"), str(script)],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize("name", SCRIPT_PARAMS)
def test_a_user_script_over_its_own_clients_type_checks_strictly(tmp_path: Path, name: str) -> None:
    """mypy --strict accepts the script: clients, Limits and Timeout of its library, to_json(), _request_id."""
    result = strict_mypy(tmp_path, SCRIPTS / name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_http_client_fails_the_strict_check(tmp_path: Path) -> None:
    """The check can fail: http_client="not a client" is a mypy error naming the argument, whichever of the
    two libraries is installed."""
    script = tmp_path / "wrong.py"
    script.write_text('from cadenya import Cadenya\n\nCadenya(http_client="not a client")\n', encoding="utf-8")
    result = strict_mypy(tmp_path, script)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Argument "http_client" to "Cadenya" has incompatible type' in result.stdout, result.stdout


@pytest.mark.parametrize("name", RUN_PARAMS)
def test_a_user_script_over_its_own_clients_runs_against_the_sandbox(
    sandbox: SandboxServer, tmp_path: Path, name: str
) -> None:
    """The type-checked script also runs to its end, with the README's two environment variables."""
    account = sandbox.new_account("typing")
    env = {**os.environ, "CADENYA_BASE_URL": sandbox.base_url, "CADENYA_API_KEY": account["apiKey"]}
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / name)], env=env, cwd=tmp_path, capture_output=True, text=True, check=False,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
