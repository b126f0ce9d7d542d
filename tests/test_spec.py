"""openapi.yaml describes exactly the operations of the API, validly and portably."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from tests.helpers import SPEC_PATH, operations, resolve, snake_case

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


RUNTIME = ("pydantic", "urllib3", "dateutil", "typing_extensions")  # what openapi-generator's python client imports

LIST_METHODS = """
import inspect, json, sys
sys.path.insert(0, sys.argv[1])
import cadenya_og.api
print(json.dumps({
    name: sorted(m for m, _ in inspect.getmembers(api, inspect.isfunction) if not m.startswith("_"))
    for name, api in vars(cadenya_og.api).items() if inspect.isclass(api) and name.endswith("Api")
}))
"""


def _openapi_generator(spec: Path, output: Path) -> subprocess.CompletedProcess[str]:
    """openapi-generator's python client of `spec`, written to `output`."""
    if shutil.which("java") is None:
        pytest.skip("Java is optional: openapi-generator, the second generator, needs a Java runtime on PATH (17+)")
    cli = Path(sys.executable).parent / "openapi-generator-cli"
    command = [str(cli), "generate", "-g", "python", "-i", str(spec), "-o", str(output), "--package-name", "cadenya_og"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def second_client(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """openapi-generator's python client of openapi.yaml itself: (where it is, the generator's log)."""
    output = tmp_path_factory.mktemp("openapi-generator")
    return output, _openapi_generator(SPEC_PATH, output).stdout


def test_openapi_generator_writes_no_file_over_another(second_client: tuple[Path, str]) -> None:
    """Webhooks have a tag of their own, so no generated file of them lands on an API file (FILEPATH_COLLISION)."""
    _, log = second_client
    assert "FILEPATH_COLLISION" not in log


def test_openapi_generator_client_imports_with_a_method_per_operation(
    spec: dict[str, Any], second_client: tuple[Path, str]
) -> None:
    """The second generator's client imports, and each operationId is a method of the API class of its tag."""
    missing = [module for module in RUNTIME if importlib.util.find_spec(module) is None]
    if missing:
        pytest.skip(f"openapi-generator's python client needs {', '.join(missing)} (the bench extra has them)")
    output, _ = second_client
    result = subprocess.run(
        [sys.executable, "-c", LIST_METHODS, str(output)], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    methods = json.loads(result.stdout)
    expected = {
        f"{''.join(part.title() for part in op['tags'][0].split('_'))}Api": snake_case(op["operationId"])
        for _, _, op in operations(spec)
    }
    absent = [(api, method) for api, method in sorted(expected.items()) if method not in methods.get(api, [])]
    assert not absent
    assert len({snake_case(op["operationId"]) for _, _, op in operations(spec)}) == len(OPERATIONS)


def test_openapi_generator_cannot_type_the_webhooks_of_the_spec(second_client: tuple[Path, str]) -> None:
    """What `make spec-bundle` is for: from 3.1 webhooks, openapi-generator writes a module that is not Python."""
    output, _ = second_client
    webhooks = output / "cadenya_og" / "api" / "webhooks_api.py"
    with pytest.raises(SyntaxError):
        compile(webhooks.read_text(encoding="utf-8"), str(webhooks), "exec")


def test_openapi_generator_client_of_the_bundle_is_all_python(tmp_path: Path) -> None:
    """From the webhook-free bundle, every module openapi-generator writes compiles, the event models included."""
    from scripts import spec_bundle

    bundle = tmp_path / "bundle.yaml"
    spec_bundle.main(["--output", str(bundle)])
    _openapi_generator(bundle, tmp_path / "client")
    package = tmp_path / "client" / "cadenya_og"
    assert not (package / "api" / "webhooks_api.py").exists()
    assert (package / "models" / "api_key_created_event.py").is_file()
    for module in package.rglob("*.py"):
        compile(module.read_text(encoding="utf-8"), str(module), "exec")


def test_webhooks_have_a_tag_of_their_own(spec: dict[str, Any]) -> None:
    """Every webhook is tagged `webhooks`, a declared tag that no operation carries, so no generator mixes them."""
    assert "webhooks" in [tag["name"] for tag in spec["tags"]]
    assert {tag for item in spec["webhooks"].values() for tag in item["post"]["tags"]} == {"webhooks"}
    assert all("webhooks" not in op["tags"] for _, _, op in operations(spec))


def test_info_names_the_license_by_its_spdx_identifier(spec: dict[str, Any]) -> None:
    """info.license is the project's Apache-2.0, with a name and the SPDX identifier that OpenAPI 3.1 allows."""
    assert spec["info"]["license"] == {"name": "Apache 2.0", "identifier": "Apache-2.0"}
    assert "Apache License" in (SPEC_PATH.parent / "LICENSE").read_text(encoding="utf-8")


ALWAYS_SENT = [
    ("APIKey", "info"),
    ("APIKeyWithToken", "info"),
    ("APIKeySpec", "system"),
    ("APIKeyInfo", "workspacesPreview"),
    ("APIKeyInfo", "workspacesTotal"),
    ("Workspace", "status"),
    ("AccountSpec", "workspaces"),
    ("AccountInfo", "globalApiKey"),
    ("BareMetadata", "id"),
]


@pytest.mark.parametrize(("schema", "field"), [pytest.param(*item, id=".".join(item)) for item in ALWAYS_SENT])
def test_fields_always_sent_are_required(spec: dict[str, Any], schema: str, field: str) -> None:
    """A field every answer carries is required, so typed clients need no UNSET test for it."""
    assert field in spec["components"]["schemas"][schema]["required"]


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
