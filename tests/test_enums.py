"""Enums are Literal types that keep values a later API adds, as UnrecognizedStr; error codes included."""

from __future__ import annotations

import typing
from typing import Any

import httpx
import pytest

from cadenya import ResponseValidationError
from cadenya.api.api_keys import get_api_key
from cadenya.models import Error, ErrorCode, Workspace
from cadenya.models.error_code import ERROR_CODE_VALUES, ErrorCodeKnown, check_error_code
from cadenya.types import UnrecognizedStr
from tests.helpers import client_for, load_spec


def test_error_code_lists_exactly_the_codes_of_the_spec() -> None:
    """The generated ErrorCode is the spec's ErrorCode enum, value for value."""
    spec_codes = load_spec()["components"]["schemas"]["ErrorCode"]["enum"]
    assert set(typing.get_args(ErrorCodeKnown)) == set(spec_codes) == ERROR_CODE_VALUES


@pytest.mark.parametrize(
    ("value", "known"),
    [
        pytest.param("not_found", True, id="known"),
        pytest.param("quota_exhausted", False, id="from-a-later-api"),
        pytest.param("", False, id="empty"),
    ],
)
def test_check_keeps_every_string(value: str, known: bool) -> None:
    """A known code is itself; any other string is kept as an UnrecognizedStr equal to it."""
    checked = check_error_code(value)
    assert checked == value
    assert (checked in ERROR_CODE_VALUES) is known


@pytest.mark.parametrize(
    "value", [pytest.param(404, id="int"), pytest.param(None, id="null"), pytest.param([], id="list")]
)
def test_a_value_that_is_not_a_string_is_refused(value: Any) -> None:
    """An enum value must still be a string: anything else does not fit the model."""
    with pytest.raises(TypeError):
        check_error_code(value)


def test_a_non_string_enum_in_a_success_body_is_a_response_validation_error() -> None:
    """The typed error, not a bare TypeError, when a success body breaks the schema."""
    key: dict[str, Any] = {"metadata": {"id": "k", "accountId": "a", "name": "n", "profileId": "p"}}
    key["spec"] = {"system": False}
    key["info"] = {"workspacesPreview": [], "workspacesTotal": 0}
    client = client_for(lambda request: httpx.Response(200, json=key))
    assert get_api_key.sync("k", client=client) is not None  # the key as it is decodes
    key["info"]["createdBy"] = {"metadata": key["metadata"], "spec": {"type": 7}}
    client = client_for(lambda request: httpx.Response(200, json=key))
    with pytest.raises(ResponseValidationError, match="get_api_key"):
        get_api_key.sync_detailed("k", client=client)


def test_an_unknown_value_round_trips() -> None:
    """from_dict keeps a workspace status a later API added, and to_dict writes it back."""
    body = {
        "metadata": {"id": "ws", "accountId": "a", "name": "n", "profileId": "p"},
        "spec": {},
        "status": "STATUS_PAUSED",
    }
    workspace = Workspace.from_dict(body)
    assert workspace.status == "STATUS_PAUSED"
    assert workspace.to_dict() == body


def status_family(code: ErrorCode) -> str:
    """Exhaustive over the known codes: mypy (strict, warn_unreachable) proves the fallback sees only new codes."""
    match code:
        case "invalid_argument":
            return "fix the request"
        case "unauthenticated":
            return "check the credentials"
        case "permission_denied" | "account_admin_required" | "workspace_archived" | "system_api_key_not_revocable":
            return "not allowed"
        case "not_found" | "method_not_allowed":
            return "no such thing"
        case "api_key_limit_reached" | "api_key_revoked" | "api_key_token_held" | "reveal_unavailable":
            return "conflict"
        case "idempotency_key_reused":
            return "conflict"
        case "payload_too_large" | "unsupported_media_type":
            return "fix the request"
        case "rate_limited" | "internal" | "unavailable" | "request_timeout":
            return "try again later"
        case _:
            unknown: UnrecognizedStr = code  # a type error unless mypy narrowed `code` to the unknown remainder
            return f"new in a later API: {unknown}"


@pytest.mark.parametrize(
    ("code", "family"),
    [
        pytest.param("api_key_revoked", "conflict", id="known"),
        pytest.param("quota_exhausted", "new in a later API: quota_exhausted", id="later"),
    ],
)
def test_a_match_on_error_codes_has_a_place_for_new_ones(code: str, family: str) -> None:
    """Matching Error.code covers the known codes and falls through to an UnrecognizedStr for the rest."""
    error = Error.from_dict({"code": code, "message": "m"})
    assert status_family(error.code) == family
