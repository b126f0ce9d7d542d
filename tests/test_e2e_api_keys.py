"""API keys against the real sandbox over HTTP, in the sync and asyncio styles."""

from __future__ import annotations

import hashlib

import pytest

from cadenya.api.account import get_account
from cadenya.api.api_keys import (
    create_api_key,
    get_api_key,
    grant_api_key_workspace,
    list_api_key_workspaces,
    list_api_keys,
    reveal_api_key,
    revoke_api_key,
    revoke_api_key_workspace,
    rotate_api_key,
    update_api_key,
)
from cadenya.api.workspaces import create_workspace, get_workspace
from cadenya.models import (
    Account,
    APIKey,
    APIKeyWithToken,
    CreateAPIKeyRequest,
    CreateWorkspaceRequest,
    Error,
    ListAPIKeysResponse,
    ListAPIKeyWorkspacesResponse,
    RevealAPIKeyResponse,
    UpdateAPIKeyRequest,
)
from cadenya.models.labels import Labels
from cadenya.types import UNSET, Unset
from tests.helpers import open_database
from tests.sandbox_support import Caller, SandboxServer


def _create(api: Caller, name: str = "ci", **fields: object) -> APIKeyWithToken:
    response = api(create_api_key, body=CreateAPIKeyRequest(name=name, **fields))  # type: ignore[arg-type]
    assert response.status_code == 201, response.content
    assert isinstance(response.parsed, APIKeyWithToken)
    return response.parsed


def _token(key: APIKeyWithToken) -> str:
    return key.spec.token


def _error(response: object, status: int, code: str) -> Error:
    assert getattr(response, "status_code", None) == status, getattr(response, "content", None)
    parsed = getattr(response, "parsed", None)
    assert isinstance(parsed, Error)
    assert parsed.code == code, parsed.message
    return parsed


def test_create_returns_the_token_exactly_once(api: Caller) -> None:
    """The plaintext token is in the create answer and in no later read."""
    created = _create(api, description="for CI", permissions=["manage:agents"])
    token = _token(created)
    assert created.spec.permissions == ["manage:agents"]
    fetched = api(get_api_key, created.metadata.id).parsed
    assert isinstance(fetched, APIKey)
    assert fetched.spec.token is UNSET
    listed = api(list_api_keys, page_size=100).parsed
    assert isinstance(listed, ListAPIKeysResponse)
    assert token not in str([item.to_dict() for item in listed.items])
    assert all(item.spec.token is UNSET for item in listed.items)


def test_new_token_authenticates(api: Caller) -> None:
    """A freshly created key can call the API at once."""
    token = _token(_create(api))
    assert isinstance(api.as_token(token)(get_account).parsed, Account)


def test_token_is_prefixed_long_and_checksummed(api: Caller) -> None:
    """Tokens carry a scanner-friendly type prefix, high entropy and a checksum that rejects a typo."""
    token = _token(_create(api))
    assert token.startswith("cad_key_")
    assert len(token) == len("cad_key_") + 36
    typo = token[:-1] + ("A" if token[-1] != "A" else "B")
    _error(api.as_token(typo)(get_account), 401, "unauthenticated")


def test_only_digests_of_tokens_are_stored(api: Caller, sandbox: SandboxServer) -> None:
    """The database holds SHA-256 digests, never a plaintext token, revealable keys included."""
    plain, revealable = _token(_create(api)), _token(_create(api, revealable=True))
    with open_database(sandbox.db) as db:
        digests = {row[0] for row in db.execute("SELECT token_digest FROM api_keys")}
        dump = "\n".join(db.iterdump())
    for token in (plain, revealable):
        assert hashlib.sha256(token.encode()).digest() in digests
        assert token not in dump
        assert token.removeprefix("cad_key_") not in dump


def test_reveal_returns_the_token_of_a_revealable_key(api: Caller) -> None:
    """A key created revealable can be revealed, and the answer is its current token."""
    created = _create(api, revealable=True)
    info = api(get_api_key, created.metadata.id).parsed
    assert isinstance(info, APIKey) and info.info and info.info.reveal_available is True
    revealed = api(reveal_api_key, created.metadata.id)
    assert revealed.status_code == 200
    assert isinstance(revealed.parsed, RevealAPIKeyResponse)
    assert revealed.parsed.token == _token(created)


def test_reveal_of_a_key_not_created_revealable_is_a_typed_error(api: Caller) -> None:
    """revealApiKey refuses a key whose revealAvailable is false."""
    created = _create(api)
    _error(api(reveal_api_key, created.metadata.id), 409, "reveal_unavailable")


def test_fifty_first_active_key_is_refused(api: Caller) -> None:
    """At most 50 active keys per account (the system key counts); the 51st is api_key_limit_reached."""
    for index in range(49):
        _create(api, name=f"key {index}")
    _error(api(create_api_key, body=CreateAPIKeyRequest(name="one too many")), 409, "api_key_limit_reached")
    listed = api(list_api_keys, page_size=100).parsed
    assert isinstance(listed, ListAPIKeysResponse)
    assert len(listed.items) == 50


def test_revoke_is_idempotent_and_stops_the_token_at_once(api: Caller) -> None:
    """Revoking answers 204 twice; the revoked token is rejected on the very next request."""
    created = _create(api)
    holder = api.as_token(_token(created))
    assert holder(get_account).status_code == 200
    first, second = api(revoke_api_key, created.metadata.id), api(revoke_api_key, created.metadata.id)
    assert (first.status_code, first.content, second.status_code, second.content) == (204, b"", 204, b"")
    _error(holder(get_account), 401, "unauthenticated")
    revoked = api(get_api_key, created.metadata.id).parsed
    assert isinstance(revoked, APIKey) and revoked.info and revoked.info.revoked_at


def test_revoked_keys_are_listed_only_on_request(api: Caller) -> None:
    """listApiKeys leaves revoked keys out unless includeRevoked is true."""
    created = _create(api)
    api(revoke_api_key, created.metadata.id)
    default = api(list_api_keys).parsed
    everything = api(list_api_keys, include_revoked=True).parsed
    assert isinstance(default, ListAPIKeysResponse) and isinstance(everything, ListAPIKeysResponse)
    assert created.metadata.id not in [item.metadata.id for item in default.items]
    assert created.metadata.id in [item.metadata.id for item in everything.items]


def test_system_key_cannot_be_revoked_but_can_be_rotated(api: Caller) -> None:
    """The account's system key refuses revocation; rotation gives it a new token and retires the old one."""
    account = api(get_account).parsed
    assert isinstance(account, Account) and account.info.global_api_key
    system = account.info.global_api_key
    assert system.spec.system is True
    _error(api(revoke_api_key, system.metadata.id), 403, "system_api_key_not_revocable")
    rotated = api(rotate_api_key, system.metadata.id)
    assert rotated.status_code == 200 and isinstance(rotated.parsed, APIKeyWithToken)
    _error(api(get_account), 401, "unauthenticated")
    assert api.as_token(_token(rotated.parsed))(get_account).status_code == 200


def test_rotation_retires_the_old_token_and_keeps_revealability(api: Caller) -> None:
    """rotateApiKey returns the new token once; the old one fails on the next request; reveal shows the new one."""
    created = _create(api, revealable=True)
    old = _token(created)
    rotated = api(rotate_api_key, created.metadata.id).parsed
    assert isinstance(rotated, APIKeyWithToken)
    new = _token(rotated)
    assert new != old
    _error(api.as_token(old)(get_account), 401, "unauthenticated")
    assert api.as_token(new)(get_account).status_code == 200
    revealed = api(reveal_api_key, created.metadata.id).parsed
    assert isinstance(revealed, RevealAPIKeyResponse) and revealed.token == new


def test_revoked_key_cannot_be_rotated_revealed_or_changed(api: Caller) -> None:
    """Rotation, reveal and update of a revoked key are typed errors; it stays readable."""
    created = _create(api, revealable=True)
    api(revoke_api_key, created.metadata.id)
    _error(api(update_api_key, created.metadata.id, body=UpdateAPIKeyRequest(name="x")), 409, "api_key_revoked")
    _error(api(rotate_api_key, created.metadata.id), 409, "api_key_revoked")
    _error(api(reveal_api_key, created.metadata.id), 409, "api_key_revoked")


def test_update_renames_and_relabels(api: Caller) -> None:
    """updateApiKey changes name, description and labels, nothing else."""
    created = _create(api)
    labels = Labels()
    labels["team"] = "platform"
    body = UpdateAPIKeyRequest(name="renamed", description="now documented", labels=labels)
    updated = api(update_api_key, created.metadata.id, body=body).parsed
    assert isinstance(updated, APIKey)
    assert (updated.metadata.name, updated.spec.description) == ("renamed", "now documented")
    assert updated.metadata.labels and updated.metadata.labels.to_dict() == {"team": "platform"}
    assert updated.metadata.id == created.metadata.id


def test_list_pages_with_opaque_tokens(api: Caller) -> None:
    """Pages of pageSize follow nextPageToken to the end; the last page has none."""
    created = {_create(api, name=f"page {i}").metadata.id for i in range(5)}
    seen: list[str] = []
    token: str | Unset = UNSET
    pages = 0
    while True:
        page = api(list_api_keys, page_size=2, page_token=token).parsed
        assert isinstance(page, ListAPIKeysResponse)
        pages += 1
        assert len(page.items) <= 2
        seen += [item.metadata.id for item in page.items]
        if not page.next_page_token:
            break
        assert not page.next_page_token.isdigit()
        token = page.next_page_token
    assert pages == 3
    assert len(seen) == len(set(seen)) == 6
    assert created < set(seen)


def test_a_page_token_is_rejected_by_another_list(api: Caller) -> None:
    """A page token only continues the list (and filters) it came from."""
    for index in range(3):
        _create(api, name=f"k{index}")
    page = api(list_api_keys, page_size=1).parsed
    assert isinstance(page, ListAPIKeysResponse) and isinstance(page.next_page_token, str)
    _error(
        api(list_api_keys, page_size=1, include_revoked=True, page_token=page.next_page_token), 400, "invalid_argument"
    )
    _error(api(list_api_keys, page_token="not-a-token"), 400, "invalid_argument")


def test_workspace_grants_are_idempotent_and_listed(api: Caller) -> None:
    """Grant twice, list the grants, preview and total; revoke the grant twice with 204."""
    key = _create(api)
    workspaces = []
    for index in range(4):
        created = api(create_workspace, body=CreateWorkspaceRequest(name=f"ws {index}")).parsed
        assert created is not None and not isinstance(created, Error)
        workspaces.append(created.metadata.id)
    for workspace_id in [*workspaces, workspaces[0]]:
        granted = api(grant_api_key_workspace, key.metadata.id, workspace_id)
        assert granted.status_code == 200
    fetched = api(get_api_key, key.metadata.id).parsed
    assert isinstance(fetched, APIKey) and fetched.info
    assert fetched.info.workspaces_total == 4
    assert [w.id for w in fetched.info.workspaces_preview or []] == workspaces[:3]
    listed = api(list_api_key_workspaces, key.metadata.id, page_size=100).parsed
    assert isinstance(listed, ListAPIKeyWorkspacesResponse)
    assert [w.metadata.id for w in listed.items] == workspaces
    for _ in range(2):
        assert api(revoke_api_key_workspace, key.metadata.id, workspaces[0]).status_code == 204
    fetched = api(get_api_key, key.metadata.id).parsed
    assert isinstance(fetched, APIKey) and fetched.info and fetched.info.workspaces_total == 3


def test_key_without_workspaces_is_valid_but_reaches_no_workspace(api: Caller) -> None:
    """A key with zero workspaces authenticates, but a workspace-scoped read is an error, never the data."""
    workspace = api(create_workspace, body=CreateWorkspaceRequest(name="private")).parsed
    assert workspace is not None and not isinstance(workspace, Error)
    key = _create(api, workspace_ids=[workspace.metadata.id])
    holder = api.as_token(_token(key))
    assert holder(get_workspace, workspace.metadata.id).status_code == 200
    api(revoke_api_key_workspace, key.metadata.id, workspace.metadata.id)
    assert holder(get_account).status_code == 200
    denied = _error(holder(get_workspace, workspace.metadata.id), 403, "permission_denied")
    assert "private" not in denied.message


@pytest.mark.parametrize("missing", ["apikey_01JD7Z3M5W8Q2R4T6Y8U0I2O4P", "apikey_ with/slash"], ids=["unknown", "odd"])
def test_unknown_key_is_not_found(api: Caller, missing: str) -> None:
    """Any id that is not one of the account's keys is a 404 Error."""
    _error(api(get_api_key, missing), 404, "not_found")
