"""The pytest plugin of `cadenya[sandbox]`, run as a user's suite runs it: in a pytest of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.sandbox_support import ROOT

pytest_plugins = ["pytester"]

MODES = [pytest.param("http", id="http"), pytest.param("in-process", id="in-process")]

USER_SUITE = """
import asyncio

import pytest

import cadenya
from cadenya.sandbox import SandboxAccount, WebhookTimeout, fault_header

SEEN_ACCOUNTS = []


def test_each_fixture_is_what_it_says(cadenya_sandbox, cadenya_account, cadenya_client, async_cadenya_client):
    assert isinstance(cadenya_account, SandboxAccount) and cadenya_account.id.startswith("acct_")
    assert cadenya_account.api_key not in repr(cadenya_account)
    assert isinstance(cadenya_client, cadenya.Cadenya) and isinstance(async_cadenya_client, cadenya.AsyncCadenya)
    assert cadenya_client.account.get().metadata.id == cadenya_account.id
    SEEN_ACCOUNTS.append(cadenya_account.id)


def test_every_test_has_an_account_of_its_own(cadenya_account, cadenya_client):
    SEEN_ACCOUNTS.append(cadenya_account.id)
    assert len(set(SEEN_ACCOUNTS)) == len(SEEN_ACCOUNTS) == 2
    assert [key.spec.system for key in cadenya_client.api_keys.list()] == [True]


def test_the_async_client_works_under_the_tests_own_event_loop(async_cadenya_client):
    async def create_and_list():
        async with async_cadenya_client as client:
            await client.api_keys.create(name="async")
            return [key.metadata.name async for key in client.api_keys.list()]

    assert "async" in asyncio.run(create_and_list())


def test_a_webhook_arrives_verified_and_typed(cadenya_client, cadenya_webhooks):
    key = cadenya_client.api_keys.create(name="hooked")
    cadenya_client.api_keys.rotate(key.metadata.id)
    created = cadenya_webhooks.wait_for("api_key.created")
    rotated = cadenya_webhooks.wait_for("api_key.rotated")
    assert type(created).__name__ == "APIKeyCreatedEvent" and created.data.api_key_id == key.metadata.id
    assert type(rotated).__name__ == "APIKeyRotatedEvent"


def test_a_webhook_after_the_secret_was_rotated_still_verifies(cadenya_client, cadenya_webhooks):
    cadenya_client.account.rotate_webhook_secret()
    cadenya_webhooks.wait_for("webhook_secret.rotated")
    cadenya_client.api_keys.create(name="after the rotation")
    assert cadenya_webhooks.wait_for("api_key.created").type_ == "api_key.created"
    assert cadenya_webhooks.refused == []


def test_waiting_for_what_never_comes_says_what_did(cadenya_client, cadenya_webhooks):
    cadenya_client.api_keys.create(name="only this")
    with pytest.raises(WebhookTimeout, match=r"no api_key.revoked event within 1 s; arrived: api_key.created at "):
        cadenya_webhooks.wait_for("api_key.revoked", timeout=1)


@pytest.mark.cadenya_fault("status=503", times=3)
def test_a_fault_for_the_whole_test(cadenya_client):
    with pytest.raises(cadenya.InternalServerError) as raised:
        cadenya_client.with_options(max_retries=2).api_keys.list()
    assert raised.value.status_code == 503
    assert len(list(cadenya_client.api_keys.list())) == 1


def test_a_fault_for_one_call(cadenya_client):
    with pytest.raises(cadenya.NotFoundError):
        cadenya_client.api_keys.list(extra_headers=fault_header("status=404"))
    assert len(list(cadenya_client.api_keys.list())) == 1
"""


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_user_suite=USER_SUITE)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error", *args, timeout=120)


@pytest.mark.parametrize("mode", MODES)
def test_a_users_suite_needs_no_conftest_in_either_mode(pytester: pytest.Pytester, mode: str) -> None:
    """With no conftest.py at all, each fixture, webhooks, faults per test and per call work, over 127.0.0.1 by
    default and in process with --cadenya-sandbox=in-process."""
    result = _run(pytester, f"--cadenya-sandbox={mode}")
    result.assert_outcomes(passed=8)


def test_the_mode_can_be_set_in_the_ini_file(pytester: pytest.Pytester) -> None:
    """`cadenya_sandbox = in-process` in the ini file chooses the in-process sandbox."""
    pytester.makeini("[pytest]\ncadenya_sandbox = in-process\n")
    pytester.makepyfile(
        test_mode="def test_mode(cadenya_sandbox):\n    assert cadenya_sandbox.base_url == 'http://sandbox.invalid'\n"
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=60).assert_outcomes(passed=1)


def test_the_in_process_sandbox_opens_no_socket(pytester: pytest.Pytester) -> None:
    """In process, calls and webhook deliveries go through without a single socket connection or listener."""
    pytester.makepyfile(
        test_no_socket=textwrap.dedent(
            """
            import socket

            def test_no_socket(cadenya_client, cadenya_webhooks, monkeypatch):
                def refuse(*args, **kwargs):
                    raise AssertionError("a socket was used")

                monkeypatch.setattr(socket.socket, "connect", refuse)
                monkeypatch.setattr(socket.socket, "bind", refuse)
                monkeypatch.setattr(socket, "create_connection", refuse)
                key = cadenya_client.api_keys.create(name="no socket")
                assert cadenya_webhooks.wait_for("api_key.created").data.api_key_id == key.metadata.id
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--cadenya-sandbox=in-process", timeout=60)
    result.assert_outcomes(passed=1)


def test_an_unknown_mode_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """A mode other than http or in-process in the ini file stops the session with a clear error."""
    pytester.makeini("[pytest]\ncadenya_sandbox = docker\n")
    pytester.makepyfile(test_mode="def test_mode(cadenya_sandbox):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=60)
    assert "cadenya_sandbox must be one of http, in-process, not 'docker'" in result.stdout.str() + result.stderr.str()


HIDE_THE_EXTRA = """
import importlib.abc
import sys

HIDDEN = {"starlette", "uvicorn", "jsonschema", "referencing", "cryptography", "yaml"}


class WithoutTheSandboxExtra(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, WithoutTheSandboxExtra())
"""


def test_without_the_extra_pytest_is_left_as_it_was(tmp_path: Path) -> None:
    """When the sandbox's dependencies cannot be imported, the plugin loads without an error or a warning and
    defines no fixture and no option."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(HIDE_THE_EXTRA, encoding="utf-8")
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert True\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "error", "--fixtures", "test_plain.py"]
    listed = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "cadenya_" not in listed.stdout
    ran = subprocess.run([*command[:-2], "-q", "test_plain.py"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120, check=False)  # fmt: skip
    assert ran.returncode == 0 and "1 passed" in ran.stdout and "warning" not in ran.stdout.lower(), ran.stdout
    helped = subprocess.run([sys.executable, "-m", "pytest", "--help"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120, check=False)  # fmt: skip
    assert "--cadenya-sandbox" not in helped.stdout
    import_check = subprocess.run(
        [sys.executable, "-c", "import cadenya.lib.pytest_plugin as p; print(sorted(n for n in vars(p) if 'cadenya_' in n))"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert import_check.stdout.strip() == "[]", import_check.stderr
