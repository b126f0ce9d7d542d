"""Service accounts and credentials against the real sandbox over HTTP, in the sync and asyncio styles."""

from __future__ import annotations

import re

from cadenya.api.service_accounts import (
    create_service_account,
    create_service_account_credential,
    delete_service_account,
    delete_service_account_credential,
    get_service_account,
    get_service_account_credential,
    list_service_account_credentials,
    list_service_accounts,
    update_service_account,
    update_service_account_credential,
)
from cadenya.models import (
    CreateServiceAccountCredentialRequest,
    CreateServiceAccountRequest,
    ListServiceAccountCredentialsResponse,
    ListServiceAccountsResponse,
    ServiceAccount,
    ServiceAccountCredential,
    ServiceAccountCredentialWithSecret,
    UpdateServiceAccountCredentialRequest,
    UpdateServiceAccountRequest,
)
from cadenya.types import UNSET
from tests.helpers import open_database
from tests.sandbox_support import Caller, SandboxServer
from tests.test_e2e_api_keys import _error

NANOID = re.compile(r"^[A-Za-z0-9_-]{26}$")


def _service_account(api: Caller, org: str, name: str = "deployer") -> ServiceAccount:
    response = api(create_service_account, org, body=CreateServiceAccountRequest(name=name, description="CD"))
    assert response.status_code == 201, response.content
    assert isinstance(response.parsed, ServiceAccount)
    return response.parsed


def _credential(api: Caller, org: str, service_account_id: str) -> ServiceAccountCredentialWithSecret:
    body = CreateServiceAccountCredentialRequest(name="ci", description="GitHub Actions")
    response = api(create_service_account_credential, org, service_account_id, body=body)
    assert response.status_code == 201, response.content
    assert isinstance(response.parsed, ServiceAccountCredentialWithSecret)
    return response.parsed


def test_service_account_has_a_nanoid_and_times(api: Caller, account: dict[str, str]) -> None:
    """Ids are 26-character URL-safe nanoids; created_at and updated_at are set."""
    created = _service_account(api, account["accountId"])
    assert NANOID.match(created.id)
    assert created.created_at == created.updated_at
    assert created.description == "CD"
    assert created.permissions is UNSET


def test_update_moves_updated_at_only(api: Caller, account: dict[str, str]) -> None:
    """updateServiceAccount changes name and description; updated_at moves forward, created_at stays."""
    org = account["accountId"]
    created = _service_account(api, org)
    body = UpdateServiceAccountRequest(name="renamed", description="new")
    updated = api(update_service_account, org, created.id, body=body).parsed
    assert isinstance(updated, ServiceAccount)
    assert (updated.name, updated.description) == ("renamed", "new")
    assert updated.created_at == created.created_at
    assert updated.updated_at > created.updated_at


def test_expand_permissions_fills_permissions(api: Caller, account: dict[str, str]) -> None:
    """expand[]=permissions fills the map of resource type to permission to bool, on get and list."""
    org = account["accountId"]
    created = _service_account(api, org)
    plain = api(get_service_account, org, created.id).parsed
    expanded = api(get_service_account, org, created.id, expand=["permissions"]).parsed
    assert isinstance(plain, ServiceAccount) and isinstance(expanded, ServiceAccount)
    assert plain.permissions is UNSET
    assert expanded.permissions and expanded.permissions.to_dict()["service_accounts"]["read"] is True
    listed = api(list_service_accounts, org, expand=["permissions"]).parsed
    assert isinstance(listed, ListServiceAccountsResponse)
    assert all(item.permissions for item in listed.items)


def test_service_accounts_page_with_snake_case_tokens(api: Caller, account: dict[str, str]) -> None:
    """page_size and next_page_token walk the list; the last page has no token."""
    org = account["accountId"]
    ids = [_service_account(api, org, f"sa{i}").id for i in range(3)]
    first = api(list_service_accounts, org, page_size=2).parsed
    assert isinstance(first, ListServiceAccountsResponse) and isinstance(first.next_page_token, str)
    second = api(list_service_accounts, org, page_size=2, page_token=first.next_page_token).parsed
    assert isinstance(second, ListServiceAccountsResponse)
    assert second.next_page_token is UNSET
    assert [sa.id for sa in [*first.items, *second.items]] == ids


def test_credential_secret_is_shown_once(api: Caller, account: dict[str, str], sandbox: SandboxServer) -> None:
    """The create answer holds client_id and client_secret; reads and lists never show the secret."""
    org = account["accountId"]
    sa = _service_account(api, org)
    created = _credential(api, org, sa.id)
    assert created.client_secret.startswith("cad_cs_") and created.client_id
    fetched = api(get_service_account_credential, org, sa.id, created.id)
    listed = api(list_service_account_credentials, org, sa.id)
    assert isinstance(fetched.parsed, ServiceAccountCredential)
    assert isinstance(listed.parsed, ListServiceAccountCredentialsResponse)
    for response in (fetched, listed):
        assert created.client_secret.encode() not in response.content
        assert b"client_secret" not in response.content
    with open_database(sandbox.db) as db:
        assert created.client_secret not in "\n".join(db.iterdump())


def test_update_and_delete_a_credential(api: Caller, account: dict[str, str]) -> None:
    """updateServiceAccountCredential renames; delete answers 204, then the credential is gone."""
    org = account["accountId"]
    sa = _service_account(api, org)
    created = _credential(api, org, sa.id)
    body = UpdateServiceAccountCredentialRequest(name="renamed")
    updated = api(update_service_account_credential, org, sa.id, created.id, body=body).parsed
    assert isinstance(updated, ServiceAccountCredential) and updated.name == "renamed"
    assert updated.description == "GitHub Actions"
    assert api(delete_service_account_credential, org, sa.id, created.id).status_code == 204
    _error(api(get_service_account_credential, org, sa.id, created.id), 404, "not_found")


def test_deleting_a_service_account_takes_its_credentials(
    api: Caller, account: dict[str, str], sandbox: SandboxServer
) -> None:
    """deleteServiceAccount answers 204; the account and every credential of it are gone."""
    org = account["accountId"]
    sa = _service_account(api, org)
    credentials = [_credential(api, org, sa.id).id for _ in range(2)]
    response = api(delete_service_account, org, sa.id)
    assert (response.status_code, response.content) == (204, b"")
    _error(api(get_service_account, org, sa.id), 404, "not_found")
    _error(api(get_service_account_credential, org, sa.id, credentials[0]), 404, "not_found")
    with open_database(sandbox.db) as db:
        placeholders = ",".join("?" * len(credentials))
        (left,) = db.execute(f"SELECT COUNT(*) FROM credentials WHERE id IN ({placeholders})", credentials).fetchone()  # noqa: S608
    assert left == 0
