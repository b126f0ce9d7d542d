"""A field the spec marks `format: password` never shows its value in `repr()` or `str()`."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

import cadenya.models
from cadenya import Cadenya
from cadenya.types import UNSET, masked
from tests.helpers import decoded_examples, load_spec, model_objects
from tests.sandbox_support import SandboxServer

SECRET_SOUNDING = re.compile(r"token|secret|password", re.IGNORECASE)


def _schema_fields(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(schema, field, field schema) of every field declared in components, inline allOf parts included."""
    for name, schema in spec["components"]["schemas"].items():
        for part in [schema, *schema.get("allOf", [])]:
            for field, field_schema in (part.get("properties") or {}).items():
                yield name, field, field_schema


SECRET_FIELDS = sorted(
    {(name, field) for name, field, schema in _schema_fields(load_spec()) if schema.get("format") == "password"}
)


def _python_name(model: type, field: str) -> str:
    names = {field.lower(), re.sub(r"(?<!^)(?=[A-Z])", "_", field).lower()}
    matches = [attribute.name for attribute in attrs.fields(model) if attribute.name in names]
    assert len(matches) == 1, f"{model.__name__} has no attribute for {field}"
    return str(matches[0])


def _instances_with(model: type, field: str, attribute: str) -> list[tuple[str, Any, Any]]:
    """(example, outermost decoded object, object of `model` inside it) where the attribute holds a string.

    A field no example sets (`APIKeySpec.token`, which reads leave out) is set in the JSON of an example of its
    model, which is then decoded.
    """
    found, bare = [], []
    for where, decoded in decoded_examples():
        for inner in model_objects(decoded):
            if type(inner) is model:
                bare.append((where, inner))
                if isinstance(getattr(inner, attribute), str):
                    found.append((where, decoded, inner))
    if not found and bare:
        where, inner = bare[0]
        decoded = model.from_dict({**inner.to_dict(), field: "cad_key_T3H4e9z68rASJGA2DYnm6SWi2CO3H21DwfyQ"})  # type: ignore[attr-defined]
        found.append((f"{where} with {field}", decoded, decoded))
    return found


def test_the_spec_marks_every_credential() -> None:
    """Tokens, the client secret and the webhook signing secret are all marked `format: password`."""
    assert SECRET_FIELDS == [
        ("APIKeySpec", "token"),
        ("APIKeySpecWithToken", "token"),
        ("AccountInfo", "webhookEventsHmacSecret"),
        ("RevealAPIKeyResponse", "token"),
        ("ServiceAccountCredentialWithSecret", "client_secret"),
    ]


@pytest.mark.parametrize(("schema", "field"), SECRET_FIELDS, ids=[f"{s}.{f}" for s, f in SECRET_FIELDS])
def test_a_marked_field_is_masked_on_every_decoded_example(schema: str, field: str) -> None:
    """Decoded from the spec's examples, the value appears in no repr() or str(), of the model or of what holds it."""
    model = getattr(cadenya.models, schema)
    attribute = _python_name(model, field)
    found = _instances_with(model, field, attribute)
    assert found, f"no example of the spec decodes to {schema}"
    for where, outer, inner in found:
        secret = getattr(inner, attribute)
        assert len(secret) >= 16
        for shown in (repr(inner), str(inner), repr(outer), str(outer), f"{outer}", f"{outer!r}"):
            assert secret not in shown, where
            assert secret[-12:] not in shown, where
        assert f"{attribute}={masked(secret)}" in repr(inner)
        assert inner.to_dict()[field] == secret  # masked in print only: the data is whole


def test_masked_values_show_only_the_kind_of_credential() -> None:
    """A known prefix is kept when enough follows it; anything shorter or unprefixed shows nothing at all."""
    assert masked("cad_key_T3H4e9z68rASJGA2DYnm6SWi2CO3H21DwfyQ") == "'cad_key_***'"
    assert masked("wh_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwq1Yx7o3V8hA=") == "'wh_***'"
    assert masked("cad_key_short") == "'***'"
    assert masked("T3H4e9z68rASJGA2DYnm6SWi2CO3H21DwfyQ") == "'***'"
    assert masked("longprefix_T3H4e9z68rASJGA2DYnm6SWi2CO3H21DwfyQ") == "'***'"
    assert masked(UNSET) == "UNSET"
    assert masked(None) == "None"
    assert masked(b"cad_key_T3H4e9z68rASJGA2DYnm6SWi2CO3H21DwfyQ") == "'***'"


def test_no_field_sounds_like_a_secret_without_saying_whether_it_is_one() -> None:
    """Every field named like a token, secret or password is marked `format: password`, or says why it is not."""
    undecided = [
        f"{name}.{field}"
        for name, field, schema in _schema_fields(load_spec())
        if SECRET_SOUNDING.search(field)
        and schema.get("format") != "password"
        and not schema.get("x-cadenya-not-secret")
    ]
    assert undecided == []


def test_every_generated_field_named_like_a_secret_is_masked_unless_the_spec_says_it_is_not() -> None:
    """The generated models agree with the spec: such a field prints masked exactly when it is marked."""
    not_secret = {
        (name, field) for name, field, schema in _schema_fields(load_spec()) if schema.get("x-cadenya-not-secret")
    }
    checked = 0
    for name in cadenya.models.__all__:
        model = getattr(cadenya.models, name)
        if not attrs.has(model):
            continue
        for attribute in attrs.fields(model):
            if attribute.name == "additional_properties" or not SECRET_SOUNDING.search(attribute.name):
                continue
            checked += 1
            declared_not_secret = any(
                schema == name and _python_name(model, field) == attribute.name for schema, field in not_secret
            )
            assert (attribute.repr is masked) != declared_not_secret, f"{name}.{attribute.name}"
    assert checked == len(SECRET_FIELDS) + 5  # the five next-page tokens


def test_a_created_key_and_credential_print_without_their_secrets(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Against the sandbox: the create answers, logged at debug level, carry no token and no client secret."""
    account = sandbox.new_account("Secrets")
    logger = logging.getLogger("tests.secrets")
    with Cadenya(token=account["apiKey"], base_url=sandbox.base_url) as client, caplog.at_level(logging.DEBUG):
        key = client.api_keys.create(name="logged", revealable=True)
        revealed = client.api_keys.reveal(key.metadata.id)
        me = client.account.get()
        bot = client.service_accounts.create(account["accountId"], name="bot")
        credential = client.service_accounts.credentials.create(account["accountId"], bot.id, name="ci")
        for answer in (key, revealed, me, credential):
            logger.debug("answer: %s", answer)
            logger.debug("answer: %r", answer)
    answered = [key.spec.token, revealed.token, me.info.webhook_events_hmac_secret, credential.client_secret]  # type: ignore[union-attr]
    secrets = [secret for secret in answered if isinstance(secret, str) and len(secret) >= 16]
    assert len(secrets) == 4
    assert "cad_key_***" in caplog.text
    assert not [secret for secret in secrets if secret in caplog.text]
