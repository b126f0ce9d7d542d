"""Who may do what, against the real sandbox: no credential obtains access it does not already have.

The principals: the system key reaches every workspace and administers the account; `limited` is a key granted
only the workspace `staging`; `empty` is a key granted no workspace; a session token reads the account only.
Every operation is called by each of them, on targets inside and outside their reach, and gets exactly the
answer the table below gives. A refused call changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cadenya.api.account import get_account, rotate_webhook_secret, update_account
from cadenya.api.api_keys import (
    get_api_key,
    list_api_key_workspaces,
    reveal_api_key,
    revoke_api_key,
    revoke_api_key_workspace,
    rotate_api_key,
)
from cadenya.api.workspaces import get_workspace
from cadenya.models import Account, APIKey, Error, ListAPIKeyWorkspacesResponse, UpdateAccountRequest
from cadenya.types import UNSET
from tests.helpers import open_database
from tests.sandbox_support import Caller, SandboxServer, assert_no_spec_violations

OK = "allowed"
ADMIN = (403, "account_admin_required")
DENIED = (403, "permission_denied")
UNAUTHENTICATED = (401, "unauthenticated")
CREDENTIALS = ("system", "limited", "empty", "session")


@dataclass
class World:
    """One account: workspaces staging and prod, a key of each reach, a service account with a credential."""

    http: httpx.Client
    tokens: dict[str, str]
    ids: dict[str, str]

    def request(self, credential: str, method: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[credential]}"}
        return self.http.request(method, path.format(**self.ids), json=body, headers=headers)

    def caller(self, credential: str) -> Caller:
        return Caller(str(self.http.base_url).rstrip("/"), self.tokens[credential], "sync")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """A sandbox of this module's own, so that comparing its whole database before and after a call is cheap."""
    running = SandboxServer(tmp_path_factory.mktemp("authorization") / "authorization.db").start()
    yield running
    running.stop()
    assert_no_spec_violations(running)


@pytest.fixture(scope="module")
def http(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client


REACH = {"limited": ["staging"], "empty": [], "peer": ["staging"], "wide": ["staging", "prod"], "bare": []}


def build_world(server: SandboxServer, http: httpx.Client) -> World:
    account = server.new_account("Authorization")
    world = World(http, {"system": account["apiKey"], "session": account["sessionToken"]}, {})
    world.ids["org"] = account["accountId"]

    def create(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = world.request("system", "POST", path, body)
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    for name in ("staging", "prod"):
        world.ids[name] = create("/v1/workspaces", {"name": name})["metadata"]["id"]
    for name, workspaces in REACH.items():
        body = {"name": name, "revealable": True, "workspaceIds": [world.ids[w] for w in workspaces]}
        key = create("/v1/api-keys", body)
        world.ids[name], world.tokens[name] = key["metadata"]["id"], key["spec"]["token"]
    world.ids["system"] = world.request("system", "GET", "/v1/account").json()["info"]["globalApiKey"]["metadata"]["id"]
    world.ids["sa"] = create("/organizations/{org}/service-accounts", {"name": "robot"})["id"]
    world.ids["cred"] = create("/organizations/{org}/service-accounts/{sa}/credentials", {"name": "job"})["id"]
    return world


@pytest.fixture
def world(server: SandboxServer, http: httpx.Client) -> World:
    """A fresh world, for calls that change it."""
    return build_world(server, http)


@pytest.fixture(scope="module")
def shared_world(server: SandboxServer, http: httpx.Client) -> World:
    """One world for the calls that cannot change it: reads, and calls that the table says are refused."""
    return build_world(server, http)


OUTCOMES: dict[str, Any] = {
    "ok": OK,
    "admin": ADMIN,
    "denied": DENIED,
    "401": UNAUTHENTICATED,
    "not-revocable": (403, "system_api_key_not_revocable"),
    "unrevealable": (409, "reveal_unavailable"),
    "-": None,
}
SA = "/organizations/{org}/service-accounts"
CRED = SA + "/{sa}/credentials"
KEY_OPERATIONS = [
    ("updateApiKey", "PATCH /v1/api-keys/{key}", {"description": "changed"}),
    ("listApiKeyWorkspaces", "GET /v1/api-keys/{key}/workspaces", None),
    ("rotateApiKey", "POST /v1/api-keys/{key}/rotate", None),
    ("revealApiKey", "POST /v1/api-keys/{key}/reveal", None),
    ("revokeApiKey", "DELETE /v1/api-keys/{key}", None),
]
# operation, request, body, target: the outcome for the system key, limited, empty and a session token.
ROWS: list[tuple[str, str, Any, str, str]] = [
    ("getAccount", "GET /v1/account", None, "account", "ok ok ok ok"),
    ("updateAccount", "PATCH /v1/account", {"name": "x"}, "account", "ok admin admin 401"),
    ("rotateWebhookSecret", "POST /v1/account/webhook-secret/rotate", None, "account", "ok admin admin 401"),
    ("createWorkspace", "POST /v1/workspaces", {"name": "new"}, "new", "ok ok ok 401"),
    ("listWorkspaces", "GET /v1/workspaces", None, "reachable", "ok ok ok 401"),
    ("getWorkspace", "GET /v1/workspaces/{staging}", None, "staging", "ok ok denied 401"),
    ("getWorkspace", "GET /v1/workspaces/{prod}", None, "prod", "ok denied denied 401"),
    ("updateWorkspace", "PATCH /v1/workspaces/{staging}", {"name": "s"}, "staging", "ok ok denied 401"),
    ("updateWorkspace", "PATCH /v1/workspaces/{prod}", {"name": "p"}, "prod", "ok denied denied 401"),
    ("createApiKey", "POST /v1/api-keys", {"name": "k"}, "no-workspace", "ok ok ok 401"),
    ("createApiKey", "POST /v1/api-keys", {"name": "k", "workspaceIds": ["{staging}"]}, "staging", "ok ok denied 401"),
    ("createApiKey", "POST /v1/api-keys", {"name": "k", "workspaceIds": ["{prod}"]}, "prod", "ok denied denied 401"),
    ("listApiKeys", "GET /v1/api-keys", None, "all", "ok ok ok 401"),
    ("getApiKey", "GET /v1/api-keys/{wide}", None, "wide", "ok ok ok 401"),
    ("getApiKey", "GET /v1/api-keys/{system}", None, "system", "ok ok ok 401"),
    *[(op, request.format(key="{peer}"), body, "peer", "ok ok denied 401") for op, request, body in KEY_OPERATIONS],
    *[(op, request.format(key="{wide}"), body, "wide", "ok denied denied 401") for op, request, body in KEY_OPERATIONS],
    *[(op, request.format(key="{bare}"), body, "bare", "ok ok ok 401") for op, request, body in KEY_OPERATIONS],
    *[(op, request.format(key="{self}"), body, "itself", "- ok ok") for op, request, body in KEY_OPERATIONS],
    ("updateApiKey", "PATCH /v1/api-keys/{system}", {"name": "s"}, "system", "ok admin admin 401"),
    ("listApiKeyWorkspaces", "GET /v1/api-keys/{system}/workspaces", None, "system", "ok admin admin 401"),
    ("rotateApiKey", "POST /v1/api-keys/{system}/rotate", None, "system", "ok admin admin 401"),
    ("revealApiKey", "POST /v1/api-keys/{system}/reveal", None, "system", "unrevealable admin admin 401"),
    ("revokeApiKey", "DELETE /v1/api-keys/{system}", None, "system", "not-revocable admin admin 401"),
    ("grantApiKeyWorkspace", "PUT /v1/api-keys/{bare}/workspaces/{staging}", None, "bare", "ok ok denied 401"),
    ("grantApiKeyWorkspace", "PUT /v1/api-keys/{bare}/workspaces/{prod}", None, "bare", "ok denied denied 401"),
    ("grantApiKeyWorkspace", "PUT /v1/api-keys/{wide}/workspaces/{staging}", None, "wide", "ok denied denied 401"),
    ("grantApiKeyWorkspace", "PUT /v1/api-keys/{system}/workspaces/{staging}", None, "system", "ok admin admin 401"),
    ("revokeApiKeyWorkspace", "DELETE /v1/api-keys/{peer}/workspaces/{staging}", None, "peer", "ok ok denied 401"),
    ("revokeApiKeyWorkspace", "DELETE /v1/api-keys/{wide}/workspaces/{prod}", None, "wide", "ok denied denied 401"),
    ("revokeApiKeyWorkspace", "DELETE /v1/api-keys/{bare}/workspaces/{prod}", None, "bare", "ok denied denied 401"),
    (
        "revokeApiKeyWorkspace",
        "DELETE /v1/api-keys/{system}/workspaces/{staging}",
        None,
        "system",
        "ok admin admin 401",
    ),
    ("listServiceAccounts", f"GET {SA}", None, "org", "ok ok ok 401"),
    ("getServiceAccount", f"GET {SA}/{{sa}}", None, "sa", "ok ok ok 401"),
    ("listServiceAccountCredentials", f"GET {CRED}", None, "sa", "ok ok ok 401"),
    ("getServiceAccountCredential", f"GET {CRED}/{{cred}}", None, "cred", "ok ok ok 401"),
    ("createServiceAccount", f"POST {SA}", {"name": "n"}, "org", "ok admin admin 401"),
    ("updateServiceAccount", f"PATCH {SA}/{{sa}}", {"name": "n"}, "sa", "ok admin admin 401"),
    ("deleteServiceAccount", f"DELETE {SA}/{{sa}}", None, "sa", "ok admin admin 401"),
    ("createServiceAccountCredential", f"POST {CRED}", {"name": "n"}, "sa", "ok admin admin 401"),
    ("updateServiceAccountCredential", f"PATCH {CRED}/{{cred}}", {"name": "n"}, "cred", "ok admin admin 401"),
    ("deleteServiceAccountCredential", f"DELETE {CRED}/{{cred}}", None, "cred", "ok admin admin 401"),
]
TABLE = [
    pytest.param(*request.split(" "), body, credential, OUTCOMES[outcome], id=f"{op}-{target}-by-{credential}")
    for op, request, body, target, outcomes in ROWS
    for credential, outcome in zip(CREDENTIALS, outcomes.split(" "), strict=False)
    if outcome != "-"
]


def _state(db: Path) -> dict[str, list[dict[str, Any]]]:
    """Everything the sandbox stores, except when each key was last used (which any authenticated call may move)."""
    with open_database(db) as connection:
        connection.row_factory = sqlite3.Row
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            table: [
                {column: row[column] for column in row.keys() if column != "last_used_at"}  # noqa: SIM118
                for row in connection.execute(f"SELECT * FROM {table} ORDER BY rowid")  # noqa: S608
            ]
            for table in tables
        }


@pytest.mark.parametrize(("method", "path", "body", "credential", "outcome"), TABLE)
def test_each_operation_answers_each_credential_as_the_table_says(
    server: SandboxServer,
    http: httpx.Client,
    shared_world: World,
    method: str,
    path: str,
    body: Any,
    credential: str,
    outcome: Any,
) -> None:
    """Allowed is a 2xx; refused is exactly the status and code of the table, and changes nothing."""
    world = build_world(server, http) if outcome == OK and method != "GET" else shared_world
    world.ids["self"] = world.ids.get(credential, "")
    if isinstance(body, dict) and "workspaceIds" in body:
        body = {**body, "workspaceIds": [w.format(**world.ids) for w in body["workspaceIds"]]}
    before = _state(server.db) if outcome != OK else {}
    answer = world.request(credential, method, path, body)
    if outcome == OK:
        assert 200 <= answer.status_code < 300, answer.text
    else:
        assert (answer.status_code, answer.json()["code"]) == outcome, answer.text
        assert _state(server.db) == before


# --- escalation stories, end to end through the client ------------------------------------------------------


def _refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert isinstance(response.parsed, Error) and response.parsed.code == code


def test_a_key_cannot_reveal_a_wider_keys_token(world: World) -> None:
    """`limited` revealing `wide` (which reaches prod) is refused, no token in the answer; prod stays out of reach."""
    limited = world.caller("limited")
    answer = limited(reveal_api_key, world.ids["wide"])
    _refused(answer, 403, "permission_denied")
    assert world.tokens["wide"] not in answer.content.decode()
    _refused(limited(get_workspace, world.ids["prod"]), 403, "permission_denied")


def test_a_key_cannot_take_over_the_system_key(world: World) -> None:
    """Rotating or revealing the system key is refused; the owner's system key keeps working."""
    limited = world.caller("limited")
    _refused(limited(rotate_api_key, world.ids["system"]), 403, "account_admin_required")
    _refused(limited(reveal_api_key, world.ids["system"]), 403, "account_admin_required")
    assert isinstance(world.caller("system")(get_account).parsed, Account)


def test_a_key_cannot_revoke_a_wider_key(world: World) -> None:
    """`limited` revoking `wide` is refused, and `wide` still authenticates."""
    _refused(world.caller("limited")(revoke_api_key, world.ids["wide"]), 403, "permission_denied")
    assert world.caller("wide")(get_workspace, world.ids["prod"]).status_code == 200


def test_a_key_cannot_withdraw_a_grant_on_a_workspace_it_does_not_reach(world: World) -> None:
    """`limited` withdrawing `wide`'s prod grant is refused; `wide` keeps both workspaces."""
    refused = world.caller("limited")(revoke_api_key_workspace, world.ids["wide"], world.ids["prod"])
    _refused(refused, 403, "permission_denied")
    listed = world.caller("system")(list_api_key_workspaces, world.ids["wide"]).parsed
    assert isinstance(listed, ListAPIKeyWorkspacesResponse)
    assert [w.metadata.id for w in listed.items] == [world.ids["staging"], world.ids["prod"]]


def test_a_key_cannot_change_the_account_or_its_webhook_secret(world: World) -> None:
    """updateAccount and rotateWebhookSecret by `limited` are refused; name and secret are as before."""
    system = world.caller("system")
    before = system(get_account).parsed
    limited = world.caller("limited")
    _refused(limited(update_account, body=UpdateAccountRequest(name="Taken")), 403, "account_admin_required")
    _refused(limited(rotate_webhook_secret), 403, "account_admin_required")
    after = system(get_account).parsed
    assert isinstance(before, Account) and isinstance(after, Account)
    assert after.metadata.name == before.metadata.name
    assert after.info.webhook_events_hmac_secret == before.info.webhook_events_hmac_secret


def test_a_key_sees_only_its_workspaces_and_no_webhook_secret(world: World) -> None:
    """getAccount by `limited`: spec.workspaces is staging alone, and there is no webhook signing secret."""
    seen = world.caller("limited")(get_account).parsed
    assert isinstance(seen, Account)
    assert [w.metadata.id for w in seen.spec.workspaces or []] == [world.ids["staging"]]
    assert seen.info.webhook_events_hmac_secret is UNSET


def test_a_key_preview_shows_only_workspaces_the_caller_reaches(world: World) -> None:
    """getApiKey of `wide` by `limited`: the preview names staging only; the total still counts both."""
    seen = world.caller("limited")(get_api_key, world.ids["wide"]).parsed
    assert isinstance(seen, APIKey) and seen.info
    assert [w.id for w in seen.info.workspaces_preview or []] == [world.ids["staging"]]
    assert seen.info.workspaces_total == 2
