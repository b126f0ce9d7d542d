"""The sandbox's SQLite store: schema, connections and transactions."""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
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
    webhook_secret BLOB NOT NULL, -- sealed by the Vault
    created_at TEXT NOT NULL,
    webhook_url TEXT -- where this account's events go; the server's --webhook-url when NULL
);
CREATE TABLE IF NOT EXISTS session_tokens (
    digest BLOB PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    issued_at TEXT
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
-- Who holds each key's current token besides the key itself: the keys it was handed to by create, reveal
-- and rotate (never the system key, which reaches everything). Rotation replaces them; revocation clears them.
CREATE TABLE IF NOT EXISTS token_holders (
    api_key_id TEXT NOT NULL REFERENCES api_keys(id),
    holder_key_id TEXT NOT NULL REFERENCES api_keys(id),
    PRIMARY KEY (api_key_id, holder_key_id)
);
CREATE INDEX IF NOT EXISTS token_holders_by_holder ON token_holders(holder_key_id);
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
-- The kept answers of POSTs sent with an Idempotency-Key, per credential: a key's answers replay to that key only.
DROP TABLE IF EXISTS idempotency;
CREATE TABLE IF NOT EXISTS idempotent_answers (
    api_key_id TEXT NOT NULL,
    key TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    request_digest BLOB NOT NULL,
    status INTEGER NOT NULL,
    body BLOB,
    created_at TEXT NOT NULL,
    PRIMARY KEY (api_key_id, key)
);
CREATE INDEX IF NOT EXISTS idempotent_answers_by_age ON idempotent_answers(created_at);
-- Account events not yet delivered to the webhook URL, each stamped with the time it happened.
CREATE TABLE IF NOT EXISTS webhook_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    secrets BLOB NOT NULL, -- sealed by the Vault
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL, -- Unix time
    claimed INTEGER NOT NULL DEFAULT 0,
    last_status TEXT -- the answer of the last attempt: an HTTP status, or what failed
);
CREATE INDEX IF NOT EXISTS webhook_outbox_by_account ON webhook_outbox(account_id, seq);
-- Events that left the outbox: delivered, or given up after the last retry.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_status TEXT,
    state TEXT NOT NULL, -- delivered | failed
    finished_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_account ON webhook_deliveries(account_id, seq);
"""


def timestamp(moment: datetime) -> str:
    """A UTC time as the API writes it: RFC 3339 with microseconds; sorts as text in time order."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now() -> str:
    return timestamp(datetime.now(UTC))


SESSION_TTL = 12 * 60 * 60.0
"""Seconds a session token is accepted after it is issued; then it is answered 401 `unauthenticated`."""

BUSY_TIMEOUT = 5.0
"""Seconds a request waits for another request's write lock before it is answered 503 `unavailable`."""


class StoreUnusable(Exception):
    """The database cannot be used as it is: its key file is missing or does not open it."""


class Busy(Exception):
    """The database stayed locked by another writer for longer than the busy timeout."""


class StoreClosed(RuntimeError):
    """The store was closed: it opens no connection any more, so none can be left open behind it."""


def active_api_key(db: sqlite3.Connection, token: str) -> sqlite3.Row | None:
    """The API key `token` authenticates as: known by its SHA-256 digest and not revoked; else None."""
    if not _secrets.has_valid_checksum(token, _secrets.API_KEY_PREFIX):
        return None
    key: sqlite3.Row | None = db.execute(
        "SELECT * FROM api_keys WHERE token_digest = ? AND revoked_at IS NULL", (_secrets.digest(token),)
    ).fetchone()
    if key is None or not _secrets.same_digest(key["token_digest"], token):
        return None
    return key


class Store:
    """One SQLite database in WAL mode; one connection per thread; every request in one transaction.

    The database, its `-wal` and `-shm` files and the key file beside it are readable by their owner only.
    """

    def __init__(
        self, path: Path | str, *, busy_timeout: float = BUSY_TIMEOUT, session_ttl: float = SESSION_TTL
    ) -> None:
        self.path = path = Path(path)
        self.busy_timeout = busy_timeout
        self.session_ttl = session_ttl
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._closed = False
        # SQLite creates the -wal and -shm files with the database file's permissions. The file is opened here
        # only to create it: closing a descriptor of a database file that another connection of this process
        # has open would drop that connection's POSIX locks (and with them, another process's writes are no
        # longer kept out: "disk I/O error").
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            _secrets.owner_only(file)
        try:
            self._open(path.with_name(path.name + ".key"))
        except BaseException:
            self.close()  # a store that cannot be used leaves no connection open behind it
            raise

    def _open(self, key_file: Path) -> None:
        connection = self._connection()
        if not key_file.exists() and _holds_accounts(connection):
            raise StoreUnusable(
                f"the key file {str(key_file)!r} is missing; without it the data the database {str(self.path)!r}"
                " keeps encrypted cannot be read (restore the file, or use a new database)"
            )
        self.vault = _secrets.Vault(key_file)
        _add_columns(connection)
        connection.executescript(SCHEMA)
        _add_session_issue_times(connection)
        self._check_key_opens_the_database()
        self._seal_plaintext_webhook_secrets()

    def _check_key_opens_the_database(self) -> None:
        with self.transaction(write=False) as db:
            sealed = db.execute("SELECT webhook_secret FROM accounts WHERE typeof(webhook_secret) = 'blob' LIMIT 1")
            row = sealed.fetchone()
        if row is not None:
            try:
                self.vault.open(row[0])
            except RuntimeError:
                raise StoreUnusable(
                    f"the key file beside {str(self.path)!r} does not open its encrypted data"
                ) from None

    def _seal_plaintext_webhook_secrets(self) -> None:
        """Databases written before webhook secrets were sealed hold them as text: seal them in place."""
        with self.transaction() as db:
            plaintext = db.execute("SELECT id, webhook_secret FROM accounts WHERE typeof(webhook_secret) = 'text'")
            for account_id, secret in plaintext.fetchall():
                db.execute("UPDATE accounts SET webhook_secret = ? WHERE id = ?", (self.vault.seal(secret), account_id))

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None or self._closed:
            connection = self._open_connection()
        return connection

    def _open_connection(self) -> sqlite3.Connection:
        # Opened and registered under the lock close() takes: every connection is either closed by close(),
        # or never opened. None is left for the garbage collector.
        with self._connections_lock:
            if self._closed:
                raise StoreClosed(f"the sandbox store of {str(self.path)!r} is closed")
            # Each thread uses only its own connection; check_same_thread=False lets close() end them all.
            connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=self.busy_timeout
            )
            self._connections.append(connection)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged write is on disk before the response leaves, whatever happens next.
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA foreign_keys=ON")
        self._local.connection = connection
        return connection

    def close(self) -> None:
        """Close every thread's connection. Closing is final: the store raises `StoreClosed` if used again."""
        with self._connections_lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        """A transaction that commits on success and rolls back on any exception.

        Writers take the write lock up front (BEGIN IMMEDIATE), so check-then-insert sequences such as
        the active-key limit are atomic across concurrent requests. Waiting for the lock is bounded by
        the busy timeout; past it, `Busy` is raised and nothing was written.
        """
        connection = self._connection()
        try:
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.OperationalError as error:
            raise _busy_or(error) from error
        try:
            yield connection
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        try:
            connection.execute("COMMIT")
        except sqlite3.OperationalError as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise _busy_or(error) from error

    def authenticates(self, api_key_token: str) -> bool:
        """Whether requests sent with this API key token are accepted: it is neither unknown, rotated nor revoked."""
        with self.transaction(write=False) as db:
            return active_api_key(db, api_key_token) is not None

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
                    self.vault.seal(_secrets.new_webhook_secret()),
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
                "INSERT INTO session_tokens (digest, account_id, issued_at) VALUES (?, ?, ?)",
                (_secrets.digest(session_token), account_id, created_at),
            )
        return {"accountId": account_id, "name": name, "apiKey": api_key_token, "sessionToken": session_token}

    def reissue_system_key(self, account_id: str) -> str | None:
        """A new token for the account's system API key, which stops the one it had, as rotating the key does
        (but with no request and no event): how `make sandbox` gets a key to print again after the one it
        saved was rotated. None when the database holds no such account."""
        token = _secrets.new_token(_secrets.API_KEY_PREFIX)
        with self.transaction() as db:
            key = db.execute(
                "SELECT id, sealed_token FROM api_keys WHERE account_id = ? AND system = 1 AND revoked_at IS NULL",
                (account_id,),
            ).fetchone()
            if key is None:
                return None
            sealed = self.vault.seal(token) if key["sealed_token"] is not None else None
            db.execute(
                "UPDATE api_keys SET token_digest = ?, sealed_token = ? WHERE id = ?",
                (_secrets.digest(token), sealed, key["id"]),
            )
            db.execute("DELETE FROM token_holders WHERE api_key_id = ?", (key["id"],))
        return token


def active_session(db: sqlite3.Connection, token: str, ttl: float) -> sqlite3.Row | None:
    """The session `token` authenticates as: known by its digest and issued less than `ttl` seconds ago; else None."""
    if not _secrets.has_valid_checksum(token, _secrets.SESSION_PREFIX):
        return None
    oldest_accepted = timestamp(datetime.now(UTC) - timedelta(seconds=ttl))
    session: sqlite3.Row | None = db.execute(
        "SELECT * FROM session_tokens WHERE digest = ? AND issued_at > ?", (_secrets.digest(token), oldest_accepted)
    ).fetchone()
    if session is None or not _secrets.same_digest(session["digest"], token):
        return None
    return session


def _holds_accounts(connection: sqlite3.Connection) -> bool:
    """Whether the database has accounts, whose secrets only its key file opens."""
    if connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'accounts'").fetchone() is None:
        return False
    return connection.execute("SELECT 1 FROM accounts LIMIT 1").fetchone() is not None


def _add_columns(connection: sqlite3.Connection) -> None:
    """Columns added to tables a database written by an earlier version already has."""
    for table, column, declaration in (
        ("accounts", "webhook_url", "TEXT"),
        ("webhook_outbox", "last_status", "TEXT"),
    ):
        columns = {row["name"] for row in connection.execute(f"PRAGMA table_info({table})")}
        if columns and column not in columns:
            connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


def _add_session_issue_times(connection: sqlite3.Connection) -> None:
    """Databases written before session tokens expired have no issue times: a token was issued with its account."""
    columns = {row["name"] for row in connection.execute("PRAGMA table_info(session_tokens)")}
    if "issued_at" not in columns:
        connection.execute("ALTER TABLE session_tokens ADD COLUMN issued_at TEXT")
    connection.execute(
        "UPDATE session_tokens SET issued_at = (SELECT created_at FROM accounts WHERE accounts.id = account_id)"
        " WHERE issued_at IS NULL"
    )


def _busy_or(error: sqlite3.OperationalError) -> Exception:
    """`Busy` for a lock that was not released in time, else the error itself."""
    if error.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return Busy(str(error))
    return error
