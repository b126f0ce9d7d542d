"""The behaviour of every operation of the API: the promises the spec cannot express."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from typing import Any

from . import _secrets
from ._handlers import ApiError, Call, Handlers
from ._store import now

HANDLERS = Handlers()
"""The handler of every operation of the spec, by operation id: filled as this module is imported."""
operation = HANDLERS.operation

MAX_ACTIVE_API_KEYS = 50
WORKSPACES_PREVIEW = 3
DEFAULT_PAGE_SIZE = 20


def _not_found(kind: str, identifier: str) -> ApiError:
    return ApiError(404, "not_found", f"No {kind} {identifier!r} in this account.")


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    """Set an optional field only when it has a value, so absent stays absent on the wire."""
    if value is not None:
        target[key] = value


def _labels(row: sqlite3.Row) -> dict[str, str] | None:
    return json.loads(row["labels"]) if row["labels"] is not None else None


# --- pagination -------------------------------------------------------------------------------------


def _page(
    call: Call, sql: str, args: tuple[Any, ...], *, snake_case: bool, seq: str = "seq"
) -> tuple[list[sqlite3.Row], str | None]:
    """One page of `sql` (a WHERE query, not ordered or limited) after the caller's opaque token.

    `seq` is the result column that orders the list; an alias works (SQLite accepts it in WHERE).

    A token is encrypted and authenticated with a key of this sandbox, so it can be neither read (it does
    not show how many rows other accounts create) nor altered. It is bound to the account, the list and the
    filters that select its items, so it cannot be replayed against another; the page size and `expand[]`,
    which only shape each page, may change from page to page.
    """
    size_name, token_name = ("page_size", "page_token") if snake_case else ("pageSize", "pageToken")
    size = call.query.get(size_name, DEFAULT_PAGE_SIZE)
    scope = hashlib.sha256(repr((call.account_id, call.operation.operation_id, call.path, sorted(
        (k, str(v)) for k, v in call.query.items() if k not in (size_name, token_name, "expand[]")
    ))).encode()).hexdigest()  # fmt: skip
    after = 0
    if token_name in call.query:
        position = call.store.vault.open_page_token(call.query[token_name])
        if position is None or position.get("scope") != scope or not _is_sequence(position.get("after")):
            raise ApiError(400, "invalid_argument", f"{token_name} does not belong to this list.",
                           [{"field": token_name, "reason": "unknown page token"}])  # fmt: skip
        after = position["after"]
    rows = call.db.execute(f"{sql} AND {seq} > ? ORDER BY {seq} LIMIT ?", (*args, after, size + 1)).fetchall()
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    return rows, call.store.vault.seal_page_token({"scope": scope, "after": rows[-1][seq]})


def _is_sequence(value: Any) -> bool:
    """A row sequence number SQLite can compare with: a 64-bit signed integer, not a bool."""
    return type(value) is int and 0 <= value < 2**63


def _by_id(call: Call, table: str, identifier: str) -> sqlite3.Row:
    """A row this request has just written or already found; its absence is a sandbox bug."""
    row: sqlite3.Row | None = call.db.execute(f"SELECT * FROM {table} WHERE id = ?", (identifier,)).fetchone()  # noqa: S608
    if row is None:
        raise LookupError(f"{table} {identifier!r} vanished inside its own transaction")
    return row


def _list(items: list[dict[str, Any]], token: str | None, *, snake_case: bool) -> dict[str, Any]:
    answer: dict[str, Any] = {"items": items}
    _put(answer, "next_page_token" if snake_case else "nextPageToken", token)
    return answer


# --- representations --------------------------------------------------------------------------------


def _metadata(row: sqlite3.Row, account_id: str) -> dict[str, Any]:
    metadata = {"id": row["id"], "accountId": account_id, "name": row["name"], "profileId": row["profile_id"]}
    # `in row` would search the values of a sqlite3.Row, not its column names.
    _put(metadata, "externalId", row["external_id"] if "external_id" in row.keys() else None)  # noqa: SIM118
    _put(metadata, "labels", _labels(row))
    return metadata


def _workspace(row: sqlite3.Row) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    _put(spec, "description", row["description"])
    return {"metadata": _metadata(row, row["account_id"]), "spec": spec, "status": row["status"]}


def _api_key(call: Call, row: sqlite3.Row, *, token: str | None = None) -> dict[str, Any]:
    """An API key as the caller may see it: never a token but a new one, and only workspaces the caller reaches
    in `workspacesPreview` (`workspacesTotal` still counts them all)."""
    db, reach = call.db, _reach(call)
    spec: dict[str, Any] = {}
    _put(spec, "token", token)
    _put(spec, "description", row["description"])
    _put(spec, "permissions", json.loads(row["permissions"]) if row["permissions"] else None)
    spec["system"] = bool(row["system"])
    granted = db.execute(
        "SELECT w.id, w.name FROM api_key_workspaces g JOIN workspaces w ON w.id = g.workspace_id"
        " WHERE g.api_key_id = ? ORDER BY g.seq",
        (row["id"],),
    ).fetchall()
    visible = [w for w in granted if reach is None or w["id"] in reach]
    info: dict[str, Any] = {
        "workspacesPreview": [{"id": w["id"], "name": w["name"]} for w in visible[:WORKSPACES_PREVIEW]],
        "workspacesTotal": len(granted),
        "revealAvailable": row["sealed_token"] is not None,
        "createdAt": row["created_at"],
    }
    if row["created_by"] is not None:
        creator = db.execute("SELECT * FROM api_keys WHERE id = ?", (row["created_by"],)).fetchone()
        info["createdBy"] = {
            "metadata": {
                "id": creator["profile_id"],
                "accountId": creator["account_id"],
                "name": creator["name"],
                "profileId": creator["profile_id"],
            },
            "spec": {
                "type": "PROFILE_TYPE_SYSTEM" if creator["system"] else "PROFILE_TYPE_API_KEY",
                "name": creator["name"],
            },
        }
    _put(info, "lastUsedAt", row["last_used_at"])
    _put(info, "revokedAt", row["revoked_at"])
    return {"metadata": _metadata(row, row["account_id"]), "spec": spec, "info": info}


def _account(call: Call) -> dict[str, Any]:
    """The account as the caller may see it: the administrator sees everything; any other key only the
    workspaces it reaches, and not the webhook signing secret."""
    account = _by_id(call, "accounts", call.account_id)
    system_key = call.db.execute(
        "SELECT * FROM api_keys WHERE account_id = ? AND system = 1", (call.account_id,)
    ).fetchone()
    reach = _reach(call)
    workspaces = call.db.execute(
        "SELECT * FROM workspaces WHERE account_id = ? ORDER BY seq", (call.account_id,)
    ).fetchall()
    spec: dict[str, Any] = {}
    _put(spec, "billingEmail", account["billing_email"])
    _put(spec, "description", account["description"])
    _put(spec, "domain", account["domain"])
    spec["workspaces"] = [_workspace(w) for w in workspaces if reach is None or w["id"] in reach]
    info: dict[str, Any] = {"globalApiKey": _api_key(call, system_key)}
    if _is_administrator(call):
        info["webhookEventsHmacSecret"] = call.store.vault.open(account["webhook_secret"])
    return {"info": info, "metadata": _metadata(account, account["id"]), "spec": spec}


def _permissions(call: Call, resource: str) -> dict[str, dict[str, bool]] | None:
    if "permissions" not in call.query.get("expand[]", []):
        return None
    return {resource: {"read": True, "update": True, "delete": True}}


def _service_account(call: Call, row: sqlite3.Row) -> dict[str, Any]:
    answer = {"id": row["id"], "created_at": row["created_at"], "name": row["name"], "updated_at": row["updated_at"]}
    _put(answer, "description", row["description"])
    _put(answer, "permissions", _permissions(call, "service_accounts"))
    return answer


def _credential(call: Call, row: sqlite3.Row) -> dict[str, Any]:
    answer = {"id": row["id"], "client_id": row["client_id"], "created_at": row["created_at"], "name": row["name"]}
    _put(answer, "description", row["description"])
    _put(answer, "last_used_at", row["last_used_at"])
    _put(answer, "permissions", _permissions(call, "service_account_credentials"))
    return answer


def _update(call: Call, table: str, row_id: str, fields: dict[str, str]) -> None:
    """Apply the body fields present in `fields` (wire name -> column) to one row."""
    changes = {column: call.body[name] for name, column in fields.items() if name in call.body}
    if "labels" in changes:
        changes["labels"] = json.dumps(changes["labels"])
    if changes:
        assignments = ", ".join(f"{column} = ?" for column in changes)
        call.db.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", (*changes.values(), row_id))  # noqa: S608


# --- who may do what --------------------------------------------------------------------------------
#
# No credential can obtain, directly or through another key's token, access that it does not already
# have. The system key reaches every workspace and is the account's administrator; any other API key
# reaches exactly the workspaces granted to it, possibly none; a session token only reads the account.
#
# The invariant: a key never comes to hold a token that reaches a workspace it does not reach. A key holds
# the tokens handed to calls it authenticated (create, reveal, rotate), recorded in `token_holders`; grants
# to a held key need its holders to reach the workspace, withdrawals flow down to the keys a key holds, and
# a key's new workspace flows up to the keys that hold it.


def _is_administrator(call: Call) -> bool:
    return call.api_key is not None and bool(call.api_key["system"])


def _reach(call: Call) -> frozenset[str] | None:
    """The workspaces the caller reaches; None for every workspace (the system key)."""
    if _is_administrator(call):
        return None
    if call.api_key is None:
        return frozenset()
    return _grants(call, call.api_key["id"])


def _grants(call: Call, api_key_id: str) -> frozenset[str]:
    rows = call.db.execute("SELECT workspace_id FROM api_key_workspaces WHERE api_key_id = ?", (api_key_id,))
    return frozenset(workspace_id for (workspace_id,) in rows)


def _require_administrator(call: Call, action: str) -> None:
    if not _is_administrator(call):
        raise ApiError(
            403, "account_admin_required", f"Only the account's administrator (its system API key) can {action}."
        )


def _require_reach_of(call: Call, target: sqlite3.Row) -> None:
    """The caller may act on API key `target` only if it already reaches every workspace `target` reaches."""
    if target["system"]:
        _require_administrator(call, "act on the system API key")
        return
    reach = _reach(call)
    if reach is not None and not _grants(call, target["id"]) <= reach:
        raise ApiError(
            403,
            "permission_denied",
            f"API key {target['id']!r} reaches workspaces this API key does not; only a key that reaches all of"
            " them can act on it.",
        )


def _hand_token_to_caller(call: Call, api_key_id: str, *, replacing: bool) -> None:
    """Record that the caller now holds the current token of `api_key_id` (after create, reveal or rotate);
    a new token (`replacing`) is held by the caller alone."""
    if replacing:
        call.db.execute("DELETE FROM token_holders WHERE api_key_id = ?", (api_key_id,))
    if call.api_key is not None and not _is_administrator(call) and call.api_key["id"] != api_key_id:
        call.db.execute(
            "INSERT OR IGNORE INTO token_holders (api_key_id, holder_key_id) VALUES (?, ?)",
            (api_key_id, call.api_key["id"]),
        )


def _holders(call: Call, api_key_id: str) -> list[str]:
    rows = call.db.execute("SELECT holder_key_id FROM token_holders WHERE api_key_id = ?", (api_key_id,))
    return [holder for (holder,) in rows]


def _held_by(call: Call, holder_key_id: str) -> list[str]:
    rows = call.db.execute("SELECT api_key_id FROM token_holders WHERE holder_key_id = ?", (holder_key_id,))
    return [held for (held,) in rows]


def _closure(start: str, step: Callable[[str], list[str]]) -> list[str]:
    """`start` and every key reached from it by repeated `step` (holders, or held keys), each once."""
    seen, todo = [start], [start]
    while todo:
        for key_id in step(todo.pop()):
            if key_id not in seen:
                seen.append(key_id)
                todo.append(key_id)
    return seen


def _require_holders_reach(call: Call, target: sqlite3.Row, workspace_id: str) -> None:
    """A grant to a key whose token another key holds must not make that holder's token reach more than it;
    a revoked holder reaches nothing any more, so it blocks every grant until the key is rotated."""
    for holder in _holders(call, target["id"]):
        if _by_id(call, "api_keys", holder)["revoked_at"] is not None or workspace_id not in _grants(call, holder):
            raise ApiError(
                409,
                "api_key_token_held",
                f"API key {holder!r} holds the current token of API key {target['id']!r} and does not reach"
                f" workspace {workspace_id!r}; rotate the key first, so that only you hold its token.",
            )


def _require_reach(call: Call, workspace_id: str, action: str) -> None:
    reach = _reach(call)
    if reach is not None and workspace_id not in reach:
        raise ApiError(403, "permission_denied", f"This API key cannot {action} workspace {workspace_id!r}.")


# --- account ----------------------------------------------------------------------------------------


@operation("getAccount")
def get_account(call: Call) -> Any:
    if call.api_key is None:
        account = call.account
        return {
            "id": account["id"],
            "name": account["name"],
            "email": account["email"],
            "plan": account["plan"],
            "ownerUserId": account["owner_user_id"],
        }
    return _account(call)


@operation("updateAccount")
def update_account(call: Call) -> Any:
    _require_administrator(call, "change the account")
    fields = {"name": "name", "billingEmail": "billing_email", "description": "description", "domain": "domain",
              "labels": "labels"}  # fmt: skip
    _update(call, "accounts", call.account_id, fields)
    return _account(call)


@operation("rotateWebhookSecret")
def rotate_webhook_secret(call: Call) -> Any:
    _require_administrator(call, "rotate the webhook signing secret")
    sealed = call.store.vault.seal(_secrets.new_webhook_secret())
    call.db.execute("UPDATE accounts SET webhook_secret = ? WHERE id = ?", (sealed, call.account_id))
    call.events.append(("webhook_secret.rotated", {"accountId": call.account_id}))
    return _account(call)


# --- workspaces -------------------------------------------------------------------------------------


def _workspace_row(call: Call, workspace_id: str, *, action: str = "access") -> sqlite3.Row:
    """A workspace the caller may act on: it exists here, the caller reaches it, and it is not archived."""
    row: sqlite3.Row | None = call.db.execute(
        "SELECT * FROM workspaces WHERE id = ? AND account_id = ?", (workspace_id, call.account_id)
    ).fetchone()
    if row is None:
        raise _not_found("workspace", workspace_id)
    _require_reach(call, workspace_id, action)
    if row["status"] == "STATUS_ARCHIVED":
        raise ApiError(403, "workspace_archived", f"Workspace {workspace_id!r} is archived and rejects all requests.")
    return row


@operation("createWorkspace")
def create_workspace(call: Call) -> Any:
    body = call.body
    workspace_id = _secrets.new_ulid("ws")
    call.db.execute(
        "INSERT INTO workspaces (id, account_id, profile_id, name, description, labels, status, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 'STATUS_ENABLED', ?)",
        (
            workspace_id,
            call.account_id,
            call.api_key["profile_id"] if call.api_key else call.account["profile_id"],
            body["name"],
            body.get("description"),
            json.dumps(body["labels"]) if "labels" in body else None,
            now(),
        ),
    )
    if call.api_key is not None and not _is_administrator(call):
        # The workspace did not exist: granting it to its creator gives access to nothing that existed, and
        # the keys that hold the creator's token could already reach it through that token.
        call.db.executemany(
            "INSERT INTO api_key_workspaces (api_key_id, workspace_id) VALUES (?, ?)",
            [(key_id, workspace_id) for key_id in _closure(call.api_key["id"], lambda k: _holders(call, k))],
        )
    return 201, _workspace(_by_id(call, "workspaces", workspace_id))


@operation("listWorkspaces")
def list_workspaces(call: Call) -> Any:
    args: tuple[str, ...]
    if _is_administrator(call):
        sql, args = "SELECT * FROM workspaces WHERE account_id = ?", (call.account_id,)
    else:
        sql = ("SELECT * FROM workspaces WHERE account_id = ?"
               " AND id IN (SELECT workspace_id FROM api_key_workspaces WHERE api_key_id = ?)")  # fmt: skip
        args = (call.account_id, call.api_key["id"] if call.api_key else "")
    rows, token = _page(call, sql, args, snake_case=False)
    return _list([_workspace(row) for row in rows], token, snake_case=False)


@operation("getWorkspace")
def get_workspace(call: Call) -> Any:
    return _workspace(_workspace_row(call, call.path["workspaceId"]))


@operation("updateWorkspace")
def update_workspace(call: Call) -> Any:
    row = _workspace_row(call, call.path["workspaceId"])
    _update(call, "workspaces", row["id"], {"name": "name", "description": "description", "labels": "labels",
                                            "status": "status"})  # fmt: skip
    return _workspace(_by_id(call, "workspaces", row["id"]))


# --- API keys ---------------------------------------------------------------------------------------


def _api_key_row(call: Call, api_key_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = call.db.execute(
        "SELECT * FROM api_keys WHERE id = ? AND account_id = ?", (api_key_id, call.account_id)
    ).fetchone()
    if row is None:
        raise _not_found("API key", api_key_id)
    return row


def _active(row: sqlite3.Row) -> sqlite3.Row:
    if row["revoked_at"] is not None:
        raise ApiError(409, "api_key_revoked", f"API key {row['id']!r} is revoked.")
    return row


@operation("createApiKey")
def create_api_key(call: Call) -> Any:
    body = call.body
    (active,) = call.db.execute(
        "SELECT COUNT(*) FROM api_keys WHERE account_id = ? AND revoked_at IS NULL", (call.account_id,)
    ).fetchone()
    if active >= MAX_ACTIVE_API_KEYS:
        raise ApiError(
            409,
            "api_key_limit_reached",
            f"The account already has {MAX_ACTIVE_API_KEYS} active API keys; revoke one before creating another.",
        )
    workspace_ids = list(dict.fromkeys(body.get("workspaceIds", [])))
    for workspace_id in workspace_ids:
        _workspace_row(call, workspace_id, action="grant access to")
    token = _secrets.new_token(_secrets.API_KEY_PREFIX)
    api_key_id = _secrets.new_ulid("apikey")
    call.db.execute(
        "INSERT INTO api_keys (id, account_id, profile_id, name, description, external_id, labels, permissions,"
        " token_digest, sealed_token, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            api_key_id,
            call.account_id,
            _secrets.new_ulid("prof"),
            body["name"],
            body.get("description"),
            body.get("externalId"),
            json.dumps(body["labels"]) if "labels" in body else None,
            json.dumps(body["permissions"]) if "permissions" in body else None,
            _secrets.digest(token),
            call.store.vault.seal(token) if body.get("revealable", False) else None,
            call.api_key["id"] if call.api_key else None,
            now(),
        ),
    )
    call.db.executemany(
        "INSERT INTO api_key_workspaces (api_key_id, workspace_id) VALUES (?, ?)",
        [(api_key_id, workspace_id) for workspace_id in workspace_ids],
    )
    _hand_token_to_caller(call, api_key_id, replacing=False)
    call.events.append(("api_key.created", {"apiKeyId": api_key_id}))
    return 201, _api_key(call, _by_id(call, "api_keys", api_key_id), token=token)


@operation("listApiKeys")
def list_api_keys(call: Call) -> Any:
    sql = "SELECT * FROM api_keys WHERE account_id = ?"
    if not call.query.get("includeRevoked", False):
        sql += " AND revoked_at IS NULL"
    rows, token = _page(call, sql, (call.account_id,), snake_case=False)
    return _list([_api_key(call, row) for row in rows], token, snake_case=False)


@operation("getApiKey")
def get_api_key(call: Call) -> Any:
    return _api_key(call, _api_key_row(call, call.path["apiKeyId"]))


def _target_key(call: Call) -> sqlite3.Row:
    """The API key named in the path, if the caller may act on it."""
    row = _api_key_row(call, call.path["apiKeyId"])
    _require_reach_of(call, row)
    return row


@operation("updateApiKey")
def update_api_key(call: Call) -> Any:
    row = _active(_target_key(call))
    _update(call, "api_keys", row["id"], {"name": "name", "description": "description", "labels": "labels"})
    return _api_key(call, _by_id(call, "api_keys", row["id"]))


@operation("revokeApiKey")
def revoke_api_key(call: Call) -> Any:
    row = _target_key(call)
    if row["system"]:
        raise ApiError(
            403, "system_api_key_not_revocable", "The account's system API key cannot be revoked; rotate it instead."
        )
    if row["revoked_at"] is None:
        call.db.execute("UPDATE api_keys SET revoked_at = ?, sealed_token = NULL WHERE id = ?", (now(), row["id"]))
        call.db.execute("DELETE FROM token_holders WHERE api_key_id = ?", (row["id"],))
        call.events.append(("api_key.revoked", {"apiKeyId": row["id"]}))
    return 204, None


@operation("rotateApiKey")
def rotate_api_key(call: Call) -> Any:
    row = _active(_target_key(call))
    token = _secrets.new_token(_secrets.API_KEY_PREFIX)
    sealed = call.store.vault.seal(token) if row["sealed_token"] is not None else None
    call.db.execute(
        "UPDATE api_keys SET token_digest = ?, sealed_token = ? WHERE id = ?",
        (_secrets.digest(token), sealed, row["id"]),
    )
    _hand_token_to_caller(call, row["id"], replacing=True)
    call.events.append(("api_key.rotated", {"apiKeyId": row["id"]}))
    return _api_key(call, _by_id(call, "api_keys", row["id"]), token=token)


@operation("revealApiKey")
def reveal_api_key(call: Call) -> Any:
    row = _active(_target_key(call))
    if row["sealed_token"] is None:
        raise ApiError(409, "reveal_unavailable", "This API key was not created revealable.")
    _hand_token_to_caller(call, row["id"], replacing=False)
    return {"token": call.store.vault.open(row["sealed_token"])}


@operation("listApiKeyWorkspaces")
def list_api_key_workspaces(call: Call) -> Any:
    row = _target_key(call)
    rows, token = _page(
        call,
        "SELECT w.*, g.seq AS grant_seq FROM api_key_workspaces g JOIN workspaces w ON w.id = g.workspace_id"
        " WHERE g.api_key_id = ?",
        (row["id"],),
        snake_case=False,
        seq="grant_seq",
    )
    return _list([_workspace(w) for w in rows], token, snake_case=False)


@operation("grantApiKeyWorkspace")
def grant_api_key_workspace(call: Call) -> Any:
    row = _active(_target_key(call))
    workspace = _workspace_row(call, call.path["workspaceId"], action="grant access to")
    _require_holders_reach(call, row, workspace["id"])
    call.db.execute(
        "INSERT OR IGNORE INTO api_key_workspaces (api_key_id, workspace_id) VALUES (?, ?)",
        (row["id"], workspace["id"]),
    )
    return _api_key(call, _by_id(call, "api_keys", row["id"]))


@operation("revokeApiKeyWorkspace")
def revoke_api_key_workspace(call: Call) -> Any:
    row = _target_key(call)
    workspace_id = call.path["workspaceId"]
    if (
        call.db.execute(
            "SELECT 1 FROM workspaces WHERE id = ? AND account_id = ?", (workspace_id, call.account_id)
        ).fetchone()
        is None
    ):
        raise _not_found("workspace", workspace_id)
    _require_reach(call, workspace_id, "withdraw access to")
    call.db.executemany(
        "DELETE FROM api_key_workspaces WHERE api_key_id = ? AND workspace_id = ?",
        [(key_id, workspace_id) for key_id in _closure(row["id"], lambda k: _held_by(call, k))],
    )
    return 204, None


# --- service accounts -------------------------------------------------------------------------------


def _organization(call: Call) -> str:
    if call.path["organization_id"] != call.account_id:
        raise _not_found("organization", call.path["organization_id"])
    return call.account_id


def _organization_for_change(call: Call) -> str:
    """The organization, for a write: service accounts and credentials are organization-level principals."""
    organization = _organization(call)
    _require_administrator(call, "create, change or delete service accounts and their credentials")
    return organization


def _service_account_row(call: Call) -> sqlite3.Row:
    identifier = call.path["service_account_id"]
    row: sqlite3.Row | None = call.db.execute(
        "SELECT * FROM service_accounts WHERE id = ? AND account_id = ?", (identifier, _organization(call))
    ).fetchone()
    if row is None:
        raise _not_found("service account", identifier)
    return row


def _credential_row(call: Call) -> sqlite3.Row:
    service_account = _service_account_row(call)
    identifier = call.path["credential_id"]
    row: sqlite3.Row | None = call.db.execute(
        "SELECT * FROM credentials WHERE id = ? AND service_account_id = ?", (identifier, service_account["id"])
    ).fetchone()
    if row is None:
        raise _not_found("credential", identifier)
    return row


def _later_than(previous: str) -> str:
    """Now, or a microsecond after `previous` if the clock has not moved: `updated_at` always moves."""
    current = now()
    if current > previous:
        return current
    seconds, fraction = previous[:-1].split(".")
    return f"{seconds}.{int(fraction) + 1:06d}Z"


@operation("createServiceAccount")
def create_service_account(call: Call) -> Any:
    identifier, created = _secrets.new_nanoid(), now()
    call.db.execute(
        "INSERT INTO service_accounts (id, account_id, name, description, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (identifier, _organization_for_change(call), call.body["name"], call.body.get("description"), created, created),
    )
    return 201, _service_account(call, _by_id(call, "service_accounts", identifier))


@operation("listServiceAccounts")
def list_service_accounts(call: Call) -> Any:
    rows, token = _page(call, "SELECT * FROM service_accounts WHERE account_id = ?", (_organization(call),),
                        snake_case=True)  # fmt: skip
    return _list([_service_account(call, row) for row in rows], token, snake_case=True)


@operation("getServiceAccount")
def get_service_account(call: Call) -> Any:
    return _service_account(call, _service_account_row(call))


@operation("updateServiceAccount")
def update_service_account(call: Call) -> Any:
    _organization_for_change(call)
    row = _service_account_row(call)
    _update(call, "service_accounts", row["id"], {"name": "name", "description": "description"})
    call.db.execute(
        "UPDATE service_accounts SET updated_at = ? WHERE id = ?", (_later_than(row["updated_at"]), row["id"])
    )
    return _service_account(call, _by_id(call, "service_accounts", row["id"]))


@operation("deleteServiceAccount")
def delete_service_account(call: Call) -> Any:
    _organization_for_change(call)
    row = _service_account_row(call)
    call.db.execute("DELETE FROM credentials WHERE service_account_id = ?", (row["id"],))
    call.db.execute("DELETE FROM service_accounts WHERE id = ?", (row["id"],))
    return 204, None


@operation("createServiceAccountCredential")
def create_service_account_credential(call: Call) -> Any:
    _organization_for_change(call)
    service_account = _service_account_row(call)
    identifier, secret = _secrets.new_nanoid(), _secrets.new_token(_secrets.CLIENT_SECRET_PREFIX)
    call.db.execute(
        "INSERT INTO credentials (id, service_account_id, name, description, client_id, secret_digest, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (identifier, service_account["id"], call.body["name"], call.body.get("description"),
         "cid_" + _secrets.new_nanoid(), _secrets.digest(secret), now()),
    )  # fmt: skip
    return 201, {**_credential(call, _by_id(call, "credentials", identifier)), "client_secret": secret}


@operation("listServiceAccountCredentials")
def list_service_account_credentials(call: Call) -> Any:
    service_account = _service_account_row(call)
    rows, token = _page(call, "SELECT * FROM credentials WHERE service_account_id = ?", (service_account["id"],),
                        snake_case=True)  # fmt: skip
    return _list([_credential(call, row) for row in rows], token, snake_case=True)


@operation("getServiceAccountCredential")
def get_service_account_credential(call: Call) -> Any:
    return _credential(call, _credential_row(call))


@operation("updateServiceAccountCredential")
def update_service_account_credential(call: Call) -> Any:
    _organization_for_change(call)
    row = _credential_row(call)
    _update(call, "credentials", row["id"], {"name": "name", "description": "description"})
    return _credential(call, _by_id(call, "credentials", row["id"]))


@operation("deleteServiceAccountCredential")
def delete_service_account_credential(call: Call) -> Any:
    _organization_for_change(call)
    row = _credential_row(call)
    call.db.execute("DELETE FROM credentials WHERE id = ?", (row["id"],))
    return 204, None
