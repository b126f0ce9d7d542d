"""to_json() of the generated models (templates/model.py.jinja): the wire's JSON, or every field with nulls."""

from __future__ import annotations

import datetime
import json
from typing import Any

import attrs
import pytest

from cadenya.models import (
    AccountResourceMetadata,
    APIKey,
    APIKeySpecWithToken,
    CreateAPIKeyRequest,
    Labels,
    ListAPIKeysResponse,
    ServiceAccount,
)
from cadenya.types import UNSET
from tests.helpers import decoded_examples, one_of_each_model

EVERY_MODEL = [pytest.param(model, id=name) for name, model in one_of_each_model()]
EVERY_EXAMPLE = [pytest.param(model, id=where) for where, model in decoded_examples()]
METADATA = {"id": "apikey_1", "accountId": "acct_1", "name": "n", "profileId": "prof_1"}
SPEC = {"system": False}
INFO = {"workspacesPreview": [], "workspacesTotal": 0}


def _declared(model: Any) -> list[attrs.Attribute[Any]]:
    """The fields of the model's schema: its attrs fields but the two bookkeeping ones."""
    return [field for field in attrs.fields(type(model)) if field.name not in ("additional_properties", "_request_id")]


@pytest.mark.parametrize("model", EVERY_EXAMPLE)
def test_every_example_round_trips_through_to_json(model: Any) -> None:
    """from_dict(json.loads(m.to_json())) is an object equal to m, for every example of the spec."""
    assert type(model).from_dict(json.loads(model.to_json())) == model


@pytest.mark.parametrize("model", EVERY_MODEL)
def test_to_json_is_the_json_of_to_dict(model: Any) -> None:
    """By default to_json() is exactly json.dumps(to_dict()), indented by 2, non-ASCII kept."""
    assert model.to_json() == json.dumps(model.to_dict(), indent=2, ensure_ascii=False)


@pytest.mark.parametrize("model", EVERY_MODEL)
def test_with_unset_fields_every_declared_field_appears(model: Any) -> None:
    """exclude_unset=False adds exactly the fields left out, as null, and keeps every other key and value."""
    sparse = json.loads(model.to_json())
    full = json.loads(model.to_json(exclude_unset=False))
    added = {key: value for key, value in full.items() if key not in sparse}
    left_out = [field for field in _declared(model) if getattr(model, field.name) is UNSET]
    assert set(added.values()) <= {None}
    assert len(added) == len(left_out)
    assert len(full) == len(_declared(model)) + len(getattr(model, "additional_properties", {}))


def test_indent_is_honoured() -> None:
    """indent=None gives one line, indent=4 four spaces a level, the default two."""
    request = CreateAPIKeyRequest(name="ci", permissions=["read:workspaces"])
    assert request.to_json(indent=None) == '{"name": "ci", "permissions": ["read:workspaces"]}'
    assert request.to_json(indent=4).splitlines()[1] == '    "name": "ci",'
    assert request.to_json().splitlines()[1] == '  "name": "ci",'


def test_a_request_with_every_field_left_out_shows_them_as_null() -> None:
    """A request built with its one required field lists every other field as null, in to_dict() order."""
    assert json.loads(CreateAPIKeyRequest(name="ci").to_json(exclude_unset=False)) == {
        "name": "ci",
        "description": None,
        "permissions": None,
        "labels": None,
        "externalId": None,
        "workspaceIds": None,
        "revealable": None,
    }


def test_nested_objects_show_their_unset_fields_too() -> None:
    """exclude_unset=False reaches into nested objects: the metadata's missing labels are null."""
    key = APIKey.from_dict({"metadata": METADATA, "spec": SPEC, "info": INFO})
    full = json.loads(key.to_json(exclude_unset=False))
    assert full["metadata"]["labels"] is None
    assert full["spec"]["description"] is None
    assert full["info"]["createdBy"] is None


def test_a_fully_set_object_gives_the_same_text_either_way() -> None:
    """With nothing left out, both modes give the same text: the same keys in the same order."""
    metadata = AccountResourceMetadata(
        id="apikey_1", account_id="acct_1", name="n", profile_id="prof_1", external_id="ext-1", labels={"team": "a"}
    )
    assert metadata.to_json(exclude_unset=False) == metadata.to_json()


def test_date_times_are_iso_8601_text() -> None:
    """A datetime field is written as to_dict() gives it: ISO 8601 text, which from_dict reads back."""
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    account = ServiceAccount(id="sa_1", created_at=when, name="robot", updated_at=when)
    assert json.loads(account.to_json())["created_at"] == "2026-01-02T03:04:05+00:00"
    assert ServiceAccount.from_dict(json.loads(account.to_json())).created_at == when


@pytest.mark.parametrize("exclude_unset", [True, False])
def test_additional_properties_are_kept(exclude_unset: bool) -> None:
    """A key the model does not know is written out in both modes, at the top and nested."""
    key = APIKey.from_dict(
        {"metadata": {**METADATA, "team": "platform"}, "spec": SPEC, "info": INFO, "addedLater": [1]}
    )
    written = json.loads(key.to_json(exclude_unset=exclude_unset))
    assert written["addedLater"] == [1]
    assert written["metadata"]["team"] == "platform"


def test_non_ascii_text_is_written_as_it_is() -> None:
    """ensure_ascii is off: a name with accents stays readable."""
    assert '"Zoë in Köln 東京"' in CreateAPIKeyRequest(name="Zoë in Köln 東京").to_json()


def test_secret_fields_are_in_the_json_though_repr_masks_them() -> None:
    """to_json() is data, as to_dict() is: the token is written out whole, while repr() hides it."""
    token = "cad_key_" + "A" * 32
    spec = APIKeySpecWithToken(token=token, system=False)
    assert json.loads(spec.to_json())["token"] == token
    assert token not in repr(spec)


def test_a_map_model_is_its_entries() -> None:
    """Labels, a map of strings, writes its entries and nothing else, in both modes."""
    labels = AccountResourceMetadata.from_dict({**METADATA, "labels": {"team": "a"}}).labels
    assert isinstance(labels, Labels)
    assert json.loads(labels.to_json()) == json.loads(labels.to_json(exclude_unset=False)) == {"team": "a"}


def test_objects_in_a_list_show_their_unset_fields_too() -> None:
    """exclude_unset=False reaches the objects of a list field: each key of a page lists its missing fields."""
    page = ListAPIKeysResponse.from_dict({"items": [{"metadata": METADATA, "spec": SPEC, "info": INFO}]})
    full = json.loads(page.to_json(exclude_unset=False))
    assert full["items"][0]["info"]["lastUsedAt"] is None
    assert full["items"][0]["metadata"]["externalId"] is None
