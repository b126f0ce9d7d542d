"""What the sandbox's operation handlers and the app that dispatches to them share: the request a handler
serves (`Call`), the error it raises (`ApiError`), and the registry that maps operation ids to handlers.

It imports neither of them, so `_app` imports `_operations` (whose module-level decorators fill its
registry) and both import this module, without a circle.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._spec import Operation
from ._store import Store


class ApiError(Exception):
    """An answer with the spec's Error body; raised anywhere while handling a request."""

    def __init__(self, status: int, code: str, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


@dataclass
class Call:
    """Everything a handler needs about the request it serves."""

    operation: Operation
    db: sqlite3.Connection
    store: Store
    account: sqlite3.Row
    api_key: sqlite3.Row | None
    path: dict[str, Any]
    query: dict[str, Any]
    body: Any
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def account_id(self) -> str:
        return str(self.account["id"])


Handler = Callable[[Call], "tuple[int, Any] | Any"]


class Handlers(dict[str, Handler]):
    """The handler of each operation id, filled by the `operation` decorator of the module that defines them."""

    def operation(self, operation_id: str) -> Callable[[Handler], Handler]:
        """Register the handler of one spec operation."""

        def register(handler: Handler) -> Handler:
            if operation_id in self:
                raise RuntimeError(f"two handlers for {operation_id}")
            self[operation_id] = handler
            return handler

        return register
