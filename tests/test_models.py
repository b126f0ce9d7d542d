"""Models parse the documented JSON and serialise it back unchanged."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from cadenya.models import (
    Account,
    AccountResourceMetadata,
    APIKey,
    APIKeySpec,
    CreateAPIKeyRequest,
    Error,
    Labels,
    Profile,
    ServiceAccount,
)
from cadenya.types import UNSET
from tests.helpers import (
    client_for,
    load_spec,
    model_objects,
    one_of_each_model,
    operation_module,
    operations,
    with_parsed_datetimes,
)

SEED_EXAMPLE = Path(__file__).parent / "fixtures" / "seed_002_get_account.json"


def test_seed_account_example_round_trips_to_identical_json() -> None:
    """The GET /v1/account example of the seed parses into Account and serialises to the same JSON, key for key.

    A model writes its required fields first, so the order of keys inside an object may differ from the seed's.
    """
    text = SEED_EXAMPLE.read_text(encoding="utf-8")
    account = Account.from_dict(json.loads(text))
    assert account.info.global_api_key.spec.system is True
    assert account.spec.workspaces[0].status == "STATUS_ENABLED"
    assert json.dumps(account.to_dict(), indent=2, sort_keys=True) == json.dumps(
        json.loads(text), indent=2, sort_keys=True
    )


def _success_examples(spec: dict[str, Any]) -> list[Any]:
    cases = []
    for _, _, operation in operations(spec):
        for status, response in operation["responses"].items():
            content = response.get("content", {}).get("application/json")
            if not status.startswith("2") or content is None:
                continue
            examples = (
                {"example": content["example"]}
                if "example" in content
                else {name: example["value"] for name, example in content["examples"].items()}
            )
            for name, example in examples.items():
                case_id = f"{operation['operationId']}-{status}-{name}"
                cases.append(pytest.param(operation, int(status), example, id=case_id))
    return cases


@pytest.mark.parametrize(("operation", "status", "documented_example"), _success_examples(load_spec()))
def test_every_spec_example_round_trips(operation: dict[str, Any], status: int, documented_example: Any) -> None:
    """Each success example of the spec parses through its operation and serialises back to equal JSON."""
    module = operation_module(operation)
    client = client_for(lambda request: httpx.Response(status, json=documented_example))
    parsed = module._parse_response(client=client, response=httpx.Response(status, json=documented_example))
    assert not isinstance(parsed, Error)
    assert with_parsed_datetimes(parsed.to_dict()) == with_parsed_datetimes(documented_example)


def test_unknown_fields_survive_a_round_trip() -> None:
    """Fields the models do not know yet are kept, so a newer server does not lose data in a read-modify-write."""
    document = {"id": "x" * 26, "name": "ci", "created_at": "2026-01-02T03:04:05+00:00",
                "updated_at": "2026-01-02T03:04:05+00:00", "owner": "platform"}  # fmt: skip
    model = ServiceAccount.from_dict(document)
    assert model.additional_properties == {"owner": "platform"}
    assert model.to_dict() == document


def test_absent_optional_fields_stay_absent() -> None:
    """An optional field that was not sent is not serialised as null."""
    document = {
        "metadata": {"id": "apikey_1", "accountId": "acct_1", "name": "n", "profileId": "prof_1"},
        "spec": {"system": False},
        "info": {"workspacesPreview": [], "workspacesTotal": 0},
    }
    assert APIKey.from_dict(document).to_dict() == document


def test_from_dict_builds_the_same_object_as_the_constructor() -> None:
    """The fast decode path (no __init__ call) gives an object equal to one built field by field."""
    from cadenya.models import AccountResourceMetadata, APIKeyInfo, APIKeySpec
    from cadenya.models.labels import Labels

    document = {"metadata": {"id": "apikey_1", "accountId": "acct_1", "name": "n", "profileId": "prof_1",
                             "labels": {"team": "platform"}}, "spec": {"system": True},
                "info": {"workspacesPreview": [], "workspacesTotal": 0}}  # fmt: skip
    labels = Labels()
    labels["team"] = "platform"
    built = APIKey(
        metadata=AccountResourceMetadata(
            id="apikey_1", account_id="acct_1", name="n", profile_id="prof_1", labels=labels
        ),
        spec=APIKeySpec(system=True),
        info=APIKeyInfo(workspaces_preview=[], workspaces_total=0),
    )
    assert APIKey.from_dict(document) == built
    assert APIKey.from_dict(document).to_dict() == built.to_dict() == document


METADATA = {"id": "apikey_1", "accountId": "acct_1", "name": "n", "profileId": "prof_1", "labels": {"team": "a"}}
KEY_DOCUMENT = {
    "metadata": METADATA,
    "spec": {"system": True, "permissions": ["read:workspaces"]},
    "info": {"workspacesPreview": [], "workspacesTotal": 0},
}


@pytest.mark.parametrize(
    ("model", "document"),
    [
        pytest.param(Profile, {"metadata": METADATA, "spec": {"type": "PROFILE_TYPE_USER"}}, id="required-fields"),
        pytest.param(APIKeySpec, {"system": True}, id="optional-fields"),
        pytest.param(AccountResourceMetadata, METADATA, id="map-field"),
    ],
)
def test_unknown_keys_are_kept_by_every_kind_of_model(model: Any, document: dict[str, Any]) -> None:
    """A key the model does not know lands in additional_properties and is written back by to_dict."""
    decoded = model.from_dict({**document, "addedLater": {"x": [1]}})
    assert decoded.additional_properties == {"addedLater": {"x": [1]}}
    assert decoded.to_dict() == {**document, "addedLater": {"x": [1]}}


def test_a_decoded_model_has_a_writable_additional_properties_dict_of_its_own() -> None:
    """Decoded without unknown keys, each object has an empty dict of its own, which to_dict writes out."""
    first, second = APIKey.from_dict(KEY_DOCUMENT), APIKey.from_dict(KEY_DOCUMENT)
    assert type(first.metadata.additional_properties) is dict
    assert first.metadata.additional_properties == {}
    first.metadata["owner"] = "platform"
    first.additional_properties["note"] = 1
    assert second.metadata.additional_properties == second.additional_properties == {}
    assert first.to_dict() == {**KEY_DOCUMENT, "metadata": {**METADATA, "owner": "platform"}, "note": 1}


def test_decoded_and_constructed_models_print_alike() -> None:
    """repr() of a decoded model shows its additional_properties as a constructed one does."""
    built = APIKeySpec(system=True)
    assert repr(APIKeySpec.from_dict({"system": True})) == repr(built)
    assert "additional_properties={}" in repr(built)


COPIES = [
    pytest.param(copy.copy, id="copy"),
    pytest.param(copy.deepcopy, id="deepcopy"),
    pytest.param(lambda model: pickle.loads(pickle.dumps(model)), id="pickle"),  # noqa: S301
]


@pytest.mark.parametrize("duplicate", COPIES)
@pytest.mark.parametrize("model", [pytest.param(model, id=name) for name, model in one_of_each_model()])
def test_every_model_copies_and_pickles_to_an_equal_object(model: Any, duplicate: Any) -> None:
    """copy, deepcopy and pickle give an equal object with the same to_dict(); a field left out stays UNSET."""
    copied = duplicate(model)
    assert type(copied) is type(model)
    assert copied == model
    assert copied.to_dict() == model.to_dict()
    for original, duplicated in zip(model_objects(model), model_objects(copied), strict=True):
        for field in attrs.fields(type(original)):
            if getattr(original, field.name) is UNSET:
                assert getattr(duplicated, field.name) is UNSET, f"{type(original).__name__}.{field.name}"


@pytest.mark.parametrize("duplicate", COPIES)
def test_a_request_with_fields_left_out_is_sent_the_same_after_a_copy(duplicate: Any) -> None:
    """A copied or unpickled request serialises only the fields that were given, as the original does."""
    request = CreateAPIKeyRequest(name="x")
    copied = duplicate(request)
    assert copied == request
    assert copied.to_dict() == {"name": "x"}


def test_a_map_field_set_after_decoding_still_becomes_its_model() -> None:
    """A plain dict set on labels of a decoded object becomes Labels, as on a constructed one."""
    decoded = AccountResourceMetadata.from_dict(METADATA)
    decoded.labels = {"team": "b"}  # type: ignore[assignment]
    assert isinstance(decoded.labels, Labels)
    assert decoded.labels.additional_properties == {"team": "b"}


def test_a_model_built_or_decoded_by_hand_has_no_request_id() -> None:
    """Only a call sets _request_id: an object from the constructor or from_dict has None."""
    assert APIKeySpec(system=True)._request_id is None
    assert APIKey.from_dict(KEY_DOCUMENT)._request_id is None


def test_the_request_id_is_not_part_of_the_data() -> None:
    """_request_id stays out of to_dict(), to_json(), equality and repr()."""
    traced, plain = APIKey.from_dict(KEY_DOCUMENT), APIKey.from_dict(KEY_DOCUMENT)
    traced._request_id = "req_traced"
    assert traced == plain
    assert traced.to_dict() == KEY_DOCUMENT
    assert "req_traced" not in traced.to_json(exclude_unset=False)
    assert "req_traced" not in repr(traced)


@pytest.mark.parametrize("duplicate", COPIES)
def test_the_request_id_survives_copy_and_pickle(duplicate: Any) -> None:
    """copy, deepcopy and pickle keep the request id of the answer the object came from."""
    traced = APIKey.from_dict(KEY_DOCUMENT)
    traced._request_id = "req_traced"
    assert duplicate(traced)._request_id == "req_traced"


def test_a_map_model_keeps_its_request_id_through_its_own_setattr() -> None:
    """A model with a map field (whose class converts plain dicts on every set) takes a request id too."""
    metadata = AccountResourceMetadata.from_dict(METADATA)
    metadata._request_id = "req_map"
    assert copy.copy(metadata)._request_id == "req_map"
    assert metadata == AccountResourceMetadata.from_dict(METADATA)
