"""The programs in examples/ run end to end against the real sandbox, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.sandbox_support import ROOT, SandboxServer


def _run(sandbox: SandboxServer, account: dict[str, str], name: str) -> str:
    env = {**os.environ, "CADENYA_BASE_URL": sandbox.base_url, "CADENYA_API_KEY": account["apiKey"]}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert account["apiKey"] not in result.stdout + result.stderr
    return result.stdout


def test_rotate_key_goes_on_with_the_new_token(sandbox: SandboxServer) -> None:
    """The script rotates its own key, sees the old token refused, and works on with the new one."""
    output = _run(sandbox, sandbox.new_account("Rotation"), "rotate_key.py")
    assert "the old token stopped working at once: 401 unauthenticated" in output
    assert "going on with the new token: 1 active keys" in output


def test_provisioning_twice_makes_one_service_account_and_one_credential(sandbox: SandboxServer) -> None:
    """Run twice: the service account is found by name and the credential's create is replayed, not repeated."""
    account = sandbox.new_account("Provisioning")
    first = _run(sandbox, account, "provision_service_account.py")
    second = _run(sandbox, account, "provision_service_account.py")
    assert "1 credential(s) on deploy-bot" in first
    assert "1 credential(s) on deploy-bot" in second
    assert first.splitlines()[1] == second.splitlines()[1]  # the same client id
