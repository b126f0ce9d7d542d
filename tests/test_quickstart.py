"""examples/quickstart.py runs end to end against the real sandbox."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.sandbox_support import ROOT, SandboxServer


def test_quickstart_runs_against_the_sandbox(sandbox: SandboxServer) -> None:
    """The quick start creates, lists, reveals, rotates and revokes, and shows the old token's Error."""
    account = sandbox.new_account("Quickstart")
    env = {**os.environ, "CADENYA_BASE_URL": sandbox.base_url, "CADENYA_API_KEY": account["apiKey"]}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        env=env, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "matches = True" in result.stdout
    assert "HTTP 401 unauthenticated" in result.stdout
    assert "revoked the key: HTTP 204" in result.stdout
    assert account["apiKey"] not in result.stdout
