"""The pytest plugin of `cadenya[sandbox]`: fixtures that test an integration against a local sandbox.

pytest loads this module by itself (the package's `pytest11` entry point). Without the `sandbox` extra it
defines nothing and imports nothing more, so installing `cadenya` alone leaves pytest as it was. With it:

    cadenya_sandbox          one running sandbox per test session
    cadenya_account          a fresh account for each test: .id, .api_key, .session_token
    cadenya_client           a Cadenya acting as that account
    async_cadenya_client     an AsyncCadenya acting as that account
    cadenya_webhooks         the account's webhook deliveries, verified and typed, with wait_for(event_type)

`@pytest.mark.cadenya_fault("status=503", times=2)` injects a sandbox fault into a test's calls, and
`extra_headers=cadenya.sandbox.fault_header("status=503")` into one call. `--cadenya-sandbox=in-process`
(or `cadenya_sandbox = in-process` in the ini file) serves through an ASGI transport instead of a socket.
"""

from __future__ import annotations

import importlib.util

_SANDBOX_MODULES = ("starlette", "uvicorn", "jsonschema", "referencing", "cryptography", "yaml")


def _sandbox_installed() -> bool:
    try:
        return all(importlib.util.find_spec(name) is not None for name in _SANDBOX_MODULES)
    except (ImportError, ValueError):  # a module half installed, or hidden by an import hook
        return False


if _sandbox_installed():
    from cadenya.sandbox._pytest import (
        async_cadenya_client,
        cadenya_account,
        cadenya_client,
        cadenya_sandbox,
        cadenya_webhooks,
        pytest_addoption,
        pytest_configure,
    )

    __all__ = [
        "async_cadenya_client",
        "cadenya_account",
        "cadenya_client",
        "cadenya_sandbox",
        "cadenya_webhooks",
        "pytest_addoption",
        "pytest_configure",
    ]
