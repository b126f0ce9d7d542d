"""The sandbox's SQLite store: schema, connections and transactions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import _secrets

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    plan TEXT NOT NULL,
    owner_user_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    external_id TEXT,
    labels TEXT,
    billing_email TEXT,
    description TEXT,
    domain TEXT,
    webhook_secret TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS session_tokens (
    digest BLOB PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id)
);
CREATE TABLE IF NOT EXISTS api_keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    profile_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    external_id TEXT,
    labels TEXT,
    permissions TEXT,
    system INTEGER NOT NULL DEFAULT 0,
    token_digest BLOB NOT NULL UNIQUE,
    sealed_token BLOB,
    created_by TEXT,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX IF NOT EXISTS api_keys_by_account ON api_keys(account_id, seq);
CREATE TABLE IF NOT EXISTS workspaces (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    profile_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    labels TEXT,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS workspaces_by_account ON workspaces(account_id, seq);
CREATE TABLE IF NOT EXISTS api_key_workspaces (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    api_key_id TEXT NOT NULL REFERENCES api_keys(id),
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    UNIQUE (api_key_id, workspace_id)
);
CREATE TABLE IF NOT EXISTS service_accounts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    description TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS service_accounts_by_account ON service_accounts(account_id, seq);
CREATE TABLE IF NOT EXISTS credentials (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    service_account_id TEXT NOT NULL REFERENCES service_accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    client_id TEXT NOT NULL UNIQUE,
    secret_digest BLOB NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);
CREATE TABLE IF NOT EXISTS idempotency (
    account_id TEXT NOT NULL,
    key TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    request_digest BLOB NOT NULL,
    status INTEGER NOT NULL,
    body TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, key)
);
"""


def timestamp(moment: datetime) -> str:
    """A UTC time as the API writes it: RFC 3339 with microseconds; sorts as text in time order."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now() -> str:
    return timestamp(datetime.now(UTC))


class Store:
    """One SQLite database in WAL mode; one connection per thread; every request in one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self.vault = _secrets.Vault(path.with_name(path.name + ".key"))
        self._connection().executescript(SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True, timeout=30)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            # FULL: an acknowledged write is on disk before the response leaves, whatever happens next.
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA foreign_keys=ON")
            self._local.connection = connection
        return connection

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        """A transaction that commits on success and rolls back on any exception.

        Writers take the write lock up front (BEGIN IMMEDIATE), so check-then-insert sequences such as
        the active-key limit are atomic across concurrent requests.
        """
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def create_account(self, name: str, *, email: str | None = None) -> dict[str, Any]:
        """A new account with its system API key and a session token; the only time those tokens are shown."""
        account_id = _secrets.new_ulid("acct")
        api_key_token = _secrets.new_token(_secrets.API_KEY_PREFIX)
        session_token = _secrets.new_token(_secrets.SESSION_PREFIX)
        created_at = now()
        slug = "".join(c for c in name.lower() if c.isalnum()) or "account"
        with self.transaction() as connection:
            connection.execute(
                "INSERT INTO accounts (id, name, email, plan, owner_user_id, profile_id, webhook_secret, created_at)"
                " VALUES (?, ?, ?, 'sandbox', ?, ?, ?, ?)",
                (
                    account_id,
                    name,
                    email or f"owner@{slug}.example",
                    _secrets.new_ulid("user"),
                    _secrets.new_ulid("prof"),
                    _secrets.new_webhook_secret(),
                    created_at,
                ),
            )
            connection.execute(
                "INSERT INTO api_keys (id, account_id, profile_id, name, description, system, token_digest, created_at)"
                " VALUES (?, ?, ?, 'Global API key', 'Provisioned with the account.', 1, ?, ?)",
                (
                    _secrets.new_ulid("apikey"),
                    account_id,
                    _secrets.new_ulid("prof"),
                    _secrets.digest(api_key_token),
                    created_at,
                ),
            )
            connection.execute(
                "INSERT INTO session_tokens (digest, account_id) VALUES (?, ?)",
                (_secrets.digest(session_token), account_id),
            )
        return {"accountId": account_id, "name": name, "apiKey": api_key_token, "sessionToken": session_token}
