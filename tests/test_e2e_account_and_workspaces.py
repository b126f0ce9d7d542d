"""Account and workspaces against the real sandbox over HTTP, in the sync and asyncio styles."""

from __future__ import annotations

import httpx

from cadenya.api.account import get_account, rotate_webhook_secret, update_account
from cadenya.api.api_keys import create_api_key, get_api_key, grant_api_key_workspace, list_api_keys
from cadenya.api.service_accounts import get_service_account, list_service_accounts
from cadenya.api.workspaces import create_workspace, get_workspace, list_workspaces, update_workspace
from cadenya.models import (
    Account,
    APIKey,
    APIKeyWithToken,
    CreateAPIKeyRequest,
    CreateWorkspaceRequest,
    ListWorkspacesResponse,
    SessionAccount,
    UpdateAccountRequest,
    UpdateWorkspaceRequest,
    Workspace,
)
from tests.sandbox_support import Caller, SandboxServer
from tests.test_e2e_api_keys import _create, _error, _token


def _workspace(api: Caller, name: str = "ws") -> Workspace:
    response = api(create_workspace, body=CreateWorkspaceRequest(name=name, description="d"))
    assert response.status_code == 201, response.content
    assert isinstance(response.parsed, Workspace)
    return response.parsed


def test_get_account_with_an_api_key_is_the_full_account(api: Caller, account: dict[str, str]) -> None:
    """An API key sees the whole Account, its system key (without token) and webhook secret included."""
    found = api(get_account).parsed
    assert isinstance(found, Account)
    assert found.metadata.id == account["accountId"]
    assert found.info.global_api_key and found.info.global_api_key.spec.system is True
    assert not found.info.global_api_key.spec.token
    assert isinstance(found.info.webhook_events_hmac_secret, str)
    assert found.info.webhook_events_hmac_secret.startswith("wh_")


def test_get_account_with_a_session_token_is_the_minimal_shape(api: Caller, account: dict[str, str]) -> None:
    """A session token sees {id, name, email, plan, ownerUserId}, and only getAccount accepts it."""
    session = api.as_token(account["sessionToken"])
    found = session(get_account).parsed
    assert isinstance(found, SessionAccount)
    assert found.id == account["accountId"]
    assert found.name == account["name"]
    assert found.owner_user_id.startswith("user_")
    _error(session(list_api_keys), 401, "unauthenticated")


def test_missing_or_foreign_tokens_are_unauthenticated(api: Caller) -> None:
    """No token, or a token of the wrong kind, is a 401 Error."""
    bare = httpx.get(f"{api.base_url}/v1/account")
    assert (bare.status_code, bare.json()["code"]) == (401, "unauthenticated")
    _error(api.as_token("cad_key_" + "0" * 36)(get_account), 401, "unauthenticated")
    _error(api.as_token("sk_live_whatever")(get_account), 401, "unauthenticated")


def test_update_account_changes_the_documented_fields(api: Caller) -> None:
    """updateAccount sets name, billing email, description, domain and labels."""
    body = UpdateAccountRequest.from_dict(
        {
            "name": "Renamed",
            "billingEmail": "billing@acme.test",
            "description": "d",
            "domain": "acme.test",
            "labels": {"tier": "gold"},
        }
    )
    updated = api(update_account, body=body).parsed
    assert isinstance(updated, Account)
    assert updated.metadata.name == "Renamed"
    assert (updated.spec.billing_email, updated.spec.description, updated.spec.domain) == (
        "billing@acme.test", "d", "acme.test",
    )  # fmt: skip
    assert updated.metadata.labels and updated.metadata.labels.to_dict() == {"tier": "gold"}
    again = api(get_account).parsed
    assert isinstance(again, Account) and again.metadata.name == "Renamed"


def test_rotating_the_webhook_secret_replaces_it(api: Caller) -> None:
    """rotateWebhookSecret answers a new wh_ secret, which getAccount then shows."""
    before = api(get_account).parsed
    rotated = api(rotate_webhook_secret).parsed
    after = api(get_account).parsed
    assert isinstance(before, Account) and isinstance(rotated, Account) and isinstance(after, Account)
    new = rotated.info.webhook_events_hmac_secret
    assert isinstance(new, str) and new.startswith("wh_")
    assert new != before.info.webhook_events_hmac_secret
    assert after.info.webhook_events_hmac_secret == new


def test_new_workspace_is_enabled_and_listed(api: Caller) -> None:
    """createWorkspace answers 201 with STATUS_ENABLED; it is listed and in the account's spec."""
    created = _workspace(api, "alpha")
    assert created.status == "STATUS_ENABLED"
    assert created.metadata.id.startswith("ws_01")
    listed = api(list_workspaces).parsed
    assert isinstance(listed, ListWorkspacesResponse)
    assert [w.metadata.id for w in listed.items] == [created.metadata.id]
    found = api(get_account).parsed
    assert isinstance(found, Account) and [w.metadata.id for w in found.spec.workspaces or []] == [created.metadata.id]


def test_update_workspace_changes_fields_and_status(api: Caller) -> None:
    """updateWorkspace sets name, description, labels and status."""
    created = _workspace(api)
    body = UpdateWorkspaceRequest.from_dict(
        {"name": "beta", "description": "e", "labels": {"a": "b"}, "status": "STATUS_DISABLED"}
    )
    updated = api(update_workspace, created.metadata.id, body=body).parsed
    assert isinstance(updated, Workspace)
    assert (updated.metadata.name, updated.spec.description, updated.status) == ("beta", "e", "STATUS_DISABLED")


def test_archived_workspace_rejects_every_request_scoped_to_it(api: Caller) -> None:
    """Once archived, reads, updates and grants of the workspace are typed errors."""
    created = _workspace(api)
    archive = UpdateWorkspaceRequest(status="STATUS_ARCHIVED")
    assert api(update_workspace, created.metadata.id, body=archive).status_code == 200
    _error(api(get_workspace, created.metadata.id), 403, "workspace_archived")
    _error(api(update_workspace, created.metadata.id, body=UpdateWorkspaceRequest(name="x")), 403, "workspace_archived")
    key = _create(api)
    _error(api(grant_api_key_workspace, key.metadata.id, created.metadata.id), 403, "workspace_archived")
    _error(
        api(create_api_key, body=CreateAPIKeyRequest(name="k", workspace_ids=[created.metadata.id])),
        403,
        "workspace_archived",
    )


def test_workspace_access_follows_the_keys_grants(api: Caller) -> None:
    """A non-system key sees and reaches only the workspaces granted to it (or that it created)."""
    granted, other = _workspace(api, "granted"), _workspace(api, "other")
    holder = api.as_token(_token(_create(api, workspace_ids=[granted.metadata.id])))
    assert holder(get_workspace, granted.metadata.id).status_code == 200
    _error(holder(get_workspace, other.metadata.id), 403, "permission_denied")
    _error(holder(update_workspace, other.metadata.id, body=UpdateWorkspaceRequest(name="x")), 403, "permission_denied")
    own = holder(create_workspace, body=CreateWorkspaceRequest(name="own")).parsed
    assert isinstance(own, Workspace)
    listed = holder(list_workspaces).parsed
    assert isinstance(listed, ListWorkspacesResponse)
    assert [w.metadata.id for w in listed.items] == [granted.metadata.id, own.metadata.id]


def test_tenants_are_isolated(api: Caller, sandbox: SandboxServer) -> None:
    """Another account's keys, workspaces, service accounts and organization id are all 404."""
    theirs = api.as_token(sandbox.new_account("Other")["apiKey"])
    their_key = _create(theirs)
    their_workspace = _workspace(theirs)
    mine = api(get_account).parsed
    assert isinstance(mine, Account)
    _error(api(get_api_key, their_key.metadata.id), 404, "not_found")
    _error(api(get_workspace, their_workspace.metadata.id), 404, "not_found")
    _error(api(grant_api_key_workspace, _create(api).metadata.id, their_workspace.metadata.id), 404, "not_found")
    their_org = their_key.metadata.account_id
    _error(api(list_service_accounts, their_org), 404, "not_found")
    _error(api(get_service_account, their_org, "V1StGXR8_Z5jdHi6B-myT0123a"), 404, "not_found")


def test_api_key_created_by_another_key_names_its_creator(api: Caller) -> None:
    """info.createdBy is the profile of the key that created it."""
    creator = _create(api, name="creator")
    child = api.as_token(_token(creator))(create_api_key, body=CreateAPIKeyRequest(name="child")).parsed
    assert isinstance(child, APIKeyWithToken)
    fetched = api(get_api_key, child.metadata.id).parsed
    assert isinstance(fetched, APIKey) and fetched.info and fetched.info.created_by
    assert fetched.info.created_by.spec.type_ == "PROFILE_TYPE_API_KEY"
    assert fetched.info.created_by.metadata.name == "creator"
