"""openapi.yaml describes exactly the operations of the API, validly and portably."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from tests.helpers import SPEC_PATH, operations, resolve

OPERATIONS = [
    ("account", "getAccount", "get", "/v1/account"),
    ("account", "updateAccount", "patch", "/v1/account"),
    ("account", "rotateWebhookSecret", "post", "/v1/account/webhook-secret/rotate"),
    ("workspaces", "createWorkspace", "post", "/v1/workspaces"),
    ("workspaces", "listWorkspaces", "get", "/v1/workspaces"),
    ("workspaces", "getWorkspace", "get", "/v1/workspaces/{workspaceId}"),
    ("workspaces", "updateWorkspace", "patch", "/v1/workspaces/{workspaceId}"),
    ("api_keys", "createApiKey", "post", "/v1/api-keys"),
    ("api_keys", "listApiKeys", "get", "/v1/api-keys"),
    ("api_keys", "getApiKey", "get", "/v1/api-keys/{apiKeyId}"),
    ("api_keys", "updateApiKey", "patch", "/v1/api-keys/{apiKeyId}"),
    ("api_keys", "revokeApiKey", "delete", "/v1/api-keys/{apiKeyId}"),
    ("api_keys", "rotateApiKey", "post", "/v1/api-keys/{apiKeyId}/rotate"),
    ("api_keys", "revealApiKey", "post", "/v1/api-keys/{apiKeyId}/reveal"),
    ("api_keys", "listApiKeyWorkspaces", "get", "/v1/api-keys/{apiKeyId}/workspaces"),
    ("api_keys", "grantApiKeyWorkspace", "put", "/v1/api-keys/{apiKeyId}/workspaces/{workspaceId}"),
    ("api_keys", "revokeApiKeyWorkspace", "delete", "/v1/api-keys/{apiKeyId}/workspaces/{workspaceId}"),
    ("service_accounts", "createServiceAccount", "post", "/organizations/{organization_id}/service-accounts"),
    ("service_accounts", "listServiceAccounts", "get", "/organizations/{organization_id}/service-accounts"),
    (
        "service_accounts",
        "getServiceAccount",
        "get",
        "/organizations/{organization_id}/service-accounts/{service_account_id}",
    ),
    (
        "service_accounts",
        "updateServiceAccount",
        "patch",
        "/organizations/{organization_id}/service-accounts/{service_account_id}",
    ),
    (
        "service_accounts",
        "deleteServiceAccount",
        "delete",
        "/organizations/{organization_id}/service-accounts/{service_account_id}",
    ),
    (
        "service_accounts",
        "createServiceAccountCredential",
        "post",
        "/organizations/{organization_id}/service-accounts/{service_account_id}/credentials",
    ),
    (
        "service_accounts",
        "listServiceAccountCredentials",
        "get",
        "/organizations/{organization_id}/service-accounts/{service_account_id}/credentials",
    ),
    (
        "service_accounts",
        "getServiceAccountCredential",
        "get",
        "/organizations/{organization_id}/service-accounts/{service_account_id}/credentials/{credential_id}",
    ),
    (
        "service_accounts",
        "updateServiceAccountCredential",
        "patch",
        "/organizations/{organization_id}/service-accounts/{service_account_id}/credentials/{credential_id}",
    ),
    (
        "service_accounts",
        "deleteServiceAccountCredential",
        "delete",
        "/organizations/{organization_id}/service-accounts/{service_account_id}/credentials/{credential_id}",
    ),
]

SEED_MODELS = [
    "Account",
    "AccountInfo",
    "AccountSpec",
    "AccountResourceMetadata",
    "APIKey",
    "APIKeySpec",
    "APIKeyInfo",
    "Profile",
    "ProfileSpec",
    "BareMetadata",
    "Workspace",
    "WorkspaceSpec",
    "ServiceAccount",
    "ServiceAccountCredential",
    "Error",
]


def test_spec_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    """openapi-spec-validator accepts the spec."""
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_spec_has_exactly_the_operations_of_the_api(spec: dict[str, Any]) -> None:
    """Every operation with its operationId, tag, method and path; nothing else."""
    found = [(op["tags"][0], op["operationId"], method, path) for method, path, op in operations(spec)]
    assert sorted(found) == sorted(OPERATIONS)
    assert all(len(op["tags"]) == 1 for _, _, op in operations(spec))


@pytest.mark.parametrize("name", SEED_MODELS)
def test_component_schemas_are_named_after_the_seed_models(spec: dict[str, Any], name: str) -> None:
    """The seed models keep their names as component schemas."""
    assert spec["components"]["schemas"][name]["type"] == "object"


def test_every_operation_requires_the_api_key_scheme(spec: dict[str, Any]) -> None:
    """Security is declared per operation, which is what the generator reads."""
    for _, _, op in operations(spec):
        assert {"apiKeyAuth": []} in op["security"], op["operationId"]


def test_get_account_accepts_a_session_token_and_answers_one_of_two_shapes(spec: dict[str, Any]) -> None:
    """getAccount: API key or session token; the answer is the full Account or the minimal session shape."""
    get_account = spec["paths"]["/v1/account"]["get"]
    assert get_account["security"] == [{"apiKeyAuth": []}, {"sessionToken": []}]
    schema = resolve(spec, get_account["responses"]["200"]["content"]["application/json"]["schema"])
    assert schema["oneOf"] == [
        {"$ref": "#/components/schemas/Account"},
        {"$ref": "#/components/schemas/SessionAccount"},
    ]
    session = spec["components"]["schemas"]["SessionAccount"]
    assert sorted(session["properties"]) == sorted(["id", "name", "email", "plan", "ownerUserId"])


def test_every_error_response_uses_the_error_schema(spec: dict[str, Any]) -> None:
    """Each 4xx response of each operation carries the shared Error body."""
    for _, _, op in operations(spec):
        for status, response in op["responses"].items():
            if not status.startswith("2"):
                content = resolve(spec, response)["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (op["operationId"], status)


def test_every_success_response_with_a_body_has_an_example(spec: dict[str, Any]) -> None:
    """Success bodies are illustrated; 204s have no body at all."""
    for _, _, op in operations(spec):
        for status, response in op["responses"].items():
            if status == "204":
                assert "content" not in response, op["operationId"]
            elif status.startswith("2"):
                content = response["content"]["application/json"]
                assert "example" in content or content.get("examples"), (op["operationId"], status)


def test_list_operations_page_with_the_familys_casing(spec: dict[str, Any]) -> None:
    """/v1 lists take pageSize/pageToken; organization lists take page_size/page_token; both cap at 100."""
    for _, path, op in operations(spec):
        if not op["operationId"].startswith("list"):
            continue
        names = {resolve(spec, p)["name"]: resolve(spec, p) for p in op.get("parameters", [])}
        size, token = ("pageSize", "pageToken") if path.startswith("/v1/") else ("page_size", "page_token")
        assert names[size]["schema"]["maximum"] == 100, op["operationId"]
        assert token in names, op["operationId"]


def test_openapi_generator_accepts_the_spec(tmp_path: Path) -> None:
    """A second generator (openapi-generator, python target) validates and generates from the spec."""
    if shutil.which("java") is None:
        pytest.skip("Java is optional: openapi-generator, the second generator, needs a Java runtime on PATH (17+)")
    cli = Path(sys.executable).parent / "openapi-generator-cli"
    result = subprocess.run(
        [
            str(cli),
            "generate",
            "-g",
            "python",
            "-i",
            str(SPEC_PATH),
            "-o",
            str(tmp_path),
            "--package-name",
            "cadenya_og",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "cadenya_og" / "models" / "api_key.py").is_file()
    assert (tmp_path / "cadenya_og" / "api" / "api_keys_api.py").is_file()


def test_spec_has_no_duplicate_keys() -> None:
    """YAML parsers disagree on duplicate keys (PyYAML keeps the last, the generator refuses): allow none."""

    class StrictLoader(yaml.SafeLoader):
        pass

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        keys = [loader.construct_object(key) for key, _ in node.value]
        duplicates = {key for key in keys if keys.count(key) > 1}
        assert not duplicates, f"duplicate keys {duplicates} at line {node.start_mark.line + 1}"
        return loader.construct_mapping(node)

    StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    assert yaml.load(SPEC_PATH.read_text(encoding="utf-8"), Loader=StrictLoader)  # noqa: S506
