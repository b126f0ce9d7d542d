"""A caller of either call style for end-to-end tests against the real sandbox."""

from __future__ import annotations

import asyncio
import ssl
from types import ModuleType
from typing import Any

from cadenya import AuthenticatedClient
from cadenya.sandbox import SandboxServer
from cadenya.types import Response
from tests.helpers import ROOT

__all__ = ["ROOT", "Caller", "SandboxServer", "assert_no_spec_violations"]


def assert_no_spec_violations(server: SandboxServer) -> None:
    """The sandbox logs every answer it refused to send because the spec does not allow it: there must be none."""
    violations = [line for line in server.log.read_text(encoding="utf-8").splitlines() if "violates the spec" in line]
    assert not violations, "\n".join(violations)


# One TLS context for every client a Caller makes. The sandbox here is plain HTTP, so no call uses it; without
# it each client's httpx loads the whole CA bundle again, which was most of the CPU time of a call.
_TLS = ssl.create_default_context()


class Caller:
    """Calls operations in one style (sync or asyncio) and always returns the detailed Response."""

    def __init__(self, base_url: str, token: str, style: str) -> None:
        self.base_url, self.token, self.style = base_url, token, style

    def client(self) -> AuthenticatedClient:
        return AuthenticatedClient(base_url=self.base_url, token=self.token, verify=_TLS)

    def __call__(self, module: ModuleType, *args: Any, **kwargs: Any) -> Response[Any]:
        if self.style == "sync":
            with self.client() as client:
                result: Response[Any] = module.sync_detailed(*args, client=client, **kwargs)
                return result

        async def run() -> Response[Any]:
            async with self.client() as client:
                answer: Response[Any] = await module.asyncio_detailed(*args, client=client, **kwargs)
                return answer

        return asyncio.run(run())

    def as_token(self, token: str) -> Caller:
        return Caller(self.base_url, token, self.style)
