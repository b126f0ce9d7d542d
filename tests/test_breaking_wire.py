"""Each wire rule of the breaking-change gate, proven by a one-change patch of a tiny base spec."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.breaking import wire
from scripts.breaking.model import Classification

BASE_SPEC = Path(__file__).parent / "fixtures" / "breaking" / "base.yaml"
THING = ("paths", "/v1/things/{thingId}")
GET_THING = (*THING, "get")
UPDATE_THING = (*THING, "patch")
PING = ("paths", "/v1/ping", "post")
SCHEMAS = ("components", "schemas")
THING_FIELDS = (*SCHEMAS, "Thing", "properties")
REQUEST_FIELDS = (*SCHEMAS, "UpdateThingRequest", "properties")

Patch = Callable[[dict[str, Any]], None]
BREAKING, ADDITIVE, COMPATIBLE = Classification.BREAKING, Classification.ADDITIVE, Classification.COMPATIBLE


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        document = document[key]
    return document


def set_(*path: Any, value: Any) -> Patch:
    def patch(document: dict[str, Any]) -> None:
        _parent(document, path)[path[-1]] = copy.deepcopy(value)

    return patch


def delete(*path: Any) -> Patch:
    def patch(document: dict[str, Any]) -> None:
        del _parent(document, path)[path[-1]]

    return patch


def append(*path: Any, value: Any) -> Patch:
    def patch(document: dict[str, Any]) -> None:
        _parent(document, path)[path[-1]].append(copy.deepcopy(value))

    return patch


def both(*patches: Patch) -> Patch:
    def patch(document: dict[str, Any]) -> None:
        for each in patches:
            each(document)

    return patch


def base_spec() -> dict[str, Any]:
    document = yaml.safe_load(BASE_SPEC.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def changes_after(patch: Patch) -> list[tuple[str, Classification]]:
    new = base_spec()
    patch(new)
    return [(change.rule.id, change.classification) for change in wire.compare(base_spec(), new)]


JSON_BODY = {"application/json": {"schema": {"type": "object"}}}
OTHER_AUTH = set_("components", "securitySchemes", "otherAuth", value={"type": "http", "scheme": "basic"})

CASES = [
    pytest.param("operation-removed", BREAKING, delete(*PING), id="operation-removed"),
    pytest.param(
        "operation-added",
        ADDITIVE,
        set_("paths", "/v1/ping", "get", value={"operationId": "getPing", "responses": {"204": {"description": "ok"}}}),
        id="operation-added",
    ),
    pytest.param("parameter-removed", BREAKING, delete(*GET_THING, "parameters", 0), id="parameter-removed"),
    pytest.param(
        "parameter-added-required",
        BREAKING,
        append(*GET_THING, "parameters", value={"name": "q", "in": "query", "required": True, "schema": {}}),
        id="parameter-added-required",
    ),
    pytest.param(
        "parameter-added-optional",
        ADDITIVE,
        append(*GET_THING, "parameters", value={"name": "q", "in": "query", "schema": {}}),
        id="parameter-added-optional",
    ),
    pytest.param(
        "parameter-became-required",
        BREAKING,
        set_(*GET_THING, "parameters", 0, "required", value=True),
        id="parameter-became-required",
    ),
    pytest.param(
        "parameter-became-optional",
        COMPATIBLE,
        set_(*GET_THING, "parameters", 1, "required", value=False),
        id="parameter-became-optional",
    ),
    pytest.param("request-body-removed", BREAKING, delete(*UPDATE_THING, "requestBody"), id="request-body-removed"),
    pytest.param(
        "request-body-added-required",
        BREAKING,
        set_(*THING, "delete", "requestBody", value={"required": True, "content": JSON_BODY}),
        id="request-body-added-required",
    ),
    pytest.param(
        "request-body-added-optional",
        ADDITIVE,
        set_(*THING, "delete", "requestBody", value={"content": JSON_BODY}),
        id="request-body-added-optional",
    ),
    pytest.param(
        "request-body-became-required",
        BREAKING,
        set_(*PING, "requestBody", "required", value=True),
        id="request-body-became-required",
    ),
    pytest.param(
        "request-body-became-optional",
        COMPATIBLE,
        set_(*UPDATE_THING, "requestBody", "required", value=False),
        id="request-body-became-optional",
    ),
    pytest.param(
        "request-media-type-removed",
        BREAKING,
        delete(*PING, "requestBody", "content", "application/json"),
        id="request-media-type-removed",
    ),
    pytest.param(
        "request-media-type-added",
        ADDITIVE,
        set_(*PING, "requestBody", "content", "text/plain", value={"schema": {"type": "string"}}),
        id="request-media-type-added",
    ),
    pytest.param("request-field-removed", BREAKING, delete(*REQUEST_FIELDS, "note"), id="request-field-removed"),
    pytest.param(
        "request-field-added-required",
        BREAKING,
        both(
            set_(*REQUEST_FIELDS, "color", value={"type": "string"}),
            append(*SCHEMAS, "UpdateThingRequest", "required", value="color"),
        ),
        id="request-field-added-required",
    ),
    pytest.param(
        "request-field-added-optional",
        ADDITIVE,
        set_(*REQUEST_FIELDS, "color", value={"type": "string"}),
        id="request-field-added-optional",
    ),
    pytest.param(
        "request-field-became-required",
        BREAKING,
        append(*SCHEMAS, "UpdateThingRequest", "required", value="note"),
        id="request-field-became-required",
    ),
    pytest.param(
        "request-field-became-optional",
        COMPATIBLE,
        set_(*SCHEMAS, "UpdateThingRequest", "required", value=[]),
        id="request-field-became-optional",
    ),
    pytest.param("response-field-removed", BREAKING, delete(*THING_FIELDS, "note"), id="response-field-removed"),
    pytest.param(
        "response-field-added",
        ADDITIVE,
        set_(*THING_FIELDS, "color", value={"type": "string"}),
        id="response-field-added",
    ),
    pytest.param(
        "response-field-became-required",
        COMPATIBLE,
        append(*SCHEMAS, "Thing", "required", value="note"),
        id="response-field-became-required",
    ),
    pytest.param(
        "response-field-became-optional",
        BREAKING,
        set_(*SCHEMAS, "Thing", "required", value=["id"]),
        id="response-field-became-optional",
    ),
    pytest.param(
        "request-type-changed",
        BREAKING,
        set_(*REQUEST_FIELDS, "size", "type", value="string"),
        id="request-type-changed",
    ),
    pytest.param(
        "request-type-widened",
        ADDITIVE,
        set_(*REQUEST_FIELDS, "size", "type", value="number"),
        id="request-type-widened",
    ),
    pytest.param(
        "response-type-changed",
        BREAKING,
        set_(*THING_FIELDS, "size", "type", value=["integer", "null"]),
        id="response-type-changed",
    ),
    pytest.param(
        "response-type-narrowed",
        COMPATIBLE,
        set_(*THING_FIELDS, "value", "type", value="string"),
        id="response-type-narrowed",
    ),
    pytest.param(
        "request-format-changed",
        BREAKING,
        set_(*REQUEST_FIELDS, "note", "format", value="email"),
        id="request-format-changed",
    ),
    pytest.param(
        "request-format-removed", ADDITIVE, delete(*REQUEST_FIELDS, "when", "format"), id="request-format-removed"
    ),
    pytest.param(
        "format-annotation-changed",
        ADDITIVE,
        set_(*THING_FIELDS, "note", "format", value="password"),
        id="format-annotation-changed",
    ),
    pytest.param(
        "response-format-changed", BREAKING, delete(*THING_FIELDS, "created", "format"), id="response-format-changed"
    ),
    pytest.param(
        "request-enum-value-removed",
        BREAKING,
        set_(*SCHEMAS, "RequestedStatus", "enum", value=["ACTIVE"]),
        id="request-enum-value-removed",
    ),
    pytest.param(
        "request-enum-value-added",
        ADDITIVE,
        append(*SCHEMAS, "RequestedStatus", "enum", value="IDLE"),
        id="request-enum-value-added",
    ),
    pytest.param(
        "response-enum-value-added",
        ADDITIVE,
        append(*SCHEMAS, "Status", "enum", value="IDLE"),
        id="response-enum-value-added",
    ),
    pytest.param(
        "response-enum-value-removed",
        COMPATIBLE,
        set_(*SCHEMAS, "Status", "enum", value=["ACTIVE"]),
        id="response-enum-value-removed",
    ),
    pytest.param(
        "request-variant-removed",
        BREAKING,
        delete(*REQUEST_FIELDS, "target", "oneOf", 1),
        id="request-variant-removed",
    ),
    pytest.param(
        "request-variant-added",
        ADDITIVE,
        append(*REQUEST_FIELDS, "target", "oneOf", value={"type": "string"}),
        id="request-variant-added",
    ),
    pytest.param(
        "response-variant-added",
        BREAKING,
        append(*THING_FIELDS, "owner", "oneOf", value={"type": "string"}),
        id="response-variant-added",
    ),
    pytest.param(
        "response-variant-removed",
        COMPATIBLE,
        delete(*THING_FIELDS, "owner", "oneOf", 1),
        id="response-variant-removed",
    ),
    pytest.param(
        "request-constraint-tightened",
        BREAKING,
        set_(*REQUEST_FIELDS, "name", "maxLength", value=100),
        id="request-constraint-tightened",
    ),
    pytest.param(
        "request-constraint-loosened",
        ADDITIVE,
        set_(*REQUEST_FIELDS, "name", "maxLength", value=300),
        id="request-constraint-loosened",
    ),
    pytest.param(
        "response-constraint-changed",
        COMPATIBLE,
        set_(*THING_FIELDS, "tags", "maxItems", value=5),
        id="response-constraint-changed",
    ),
    pytest.param(
        "success-status-removed", BREAKING, delete(*GET_THING, "responses", "200"), id="success-status-removed"
    ),
    pytest.param(
        "success-status-added",
        BREAKING,
        set_(*GET_THING, "responses", "202", value={"description": "Accepted."}),
        id="success-status-added",
    ),
    pytest.param(
        "error-status-added",
        ADDITIVE,
        set_(*GET_THING, "responses", "429", value={"description": "Slow down."}),
        id="error-status-added",
    ),
    pytest.param("error-status-removed", COMPATIBLE, delete(*GET_THING, "responses", "404"), id="error-status-removed"),
    pytest.param(
        "response-media-type-removed",
        BREAKING,
        delete(*GET_THING, "responses", "200", "content", "application/json"),
        id="response-media-type-removed",
    ),
    pytest.param(
        "response-media-type-added",
        ADDITIVE,
        set_(*THING, "delete", "responses", "204", "content", value=JSON_BODY),
        id="response-media-type-added",
    ),
    pytest.param(
        "security-changed",
        BREAKING,
        both(OTHER_AUTH, set_(*GET_THING, "security", value=[{"otherAuth": []}])),
        id="security-changed",
    ),
    pytest.param(
        "security-alternative-added",
        ADDITIVE,
        both(OTHER_AUTH, set_(*GET_THING, "security", value=[{"apiKeyAuth": []}, {"otherAuth": []}])),
        id="security-alternative-added",
    ),
    pytest.param(
        "security-scheme-changed",
        BREAKING,
        set_("components", "securitySchemes", "apiKeyAuth", "scheme", value="basic"),
        id="security-scheme-changed",
    ),
    pytest.param("webhook-removed", BREAKING, delete("webhooks", "thing.created"), id="webhook-removed"),
    pytest.param(
        "webhook-added",
        ADDITIVE,
        set_("webhooks", "thing.deleted", value={"post": {"responses": {"200": {"description": "Received."}}}}),
        id="webhook-added",
    ),
]


@pytest.mark.parametrize(("rule_id", "classification", "patch"), CASES)
def test_rule_decides_its_change(rule_id: str, classification: Classification, patch: Patch) -> None:
    """The patch makes exactly one change, decided by the rule with the rule's classification."""
    assert changes_after(patch) == [(rule_id, classification)]


def test_every_wire_rule_has_a_proof() -> None:
    """Each rule of the wire table is proven by one case above, and each case names a rule of the table."""
    assert sorted(str(case.values[0]) for case in CASES) == sorted(wire.RULES)


def test_same_spec_has_no_changes() -> None:
    """A spec compared with itself changes nothing."""
    assert wire.compare(base_spec(), base_spec()) == []


def test_read_only_field_is_not_part_of_a_request() -> None:
    """Removing a readOnly field from a request schema changes nothing the client sends."""
    assert changes_after(delete(*REQUEST_FIELDS, "etag")) == []


def test_webhook_payload_is_compared_as_a_response() -> None:
    """A field removed from a webhook payload breaks receivers, as a removed response field does."""
    assert changes_after(delete(*SCHEMAS, "ThingCreatedEvent", "properties", "id")) == [
        ("response-field-removed", BREAKING)
    ]


def test_component_reached_by_several_operations_is_one_change() -> None:
    """A change inside a shared component is reported once, at its first operation, with the count of the others."""
    new = base_spec()
    delete(*THING_FIELDS, "note")(new)
    [change] = wire.compare(base_spec(), new)
    assert change.subject == "getThing 200 Thing.note (and 1 more)"


def test_path_parameter_rename_keeps_the_operation() -> None:
    """Renaming a path parameter is the same operation: its parameter changes, the operation is not removed."""
    new = base_spec()
    new["paths"]["/v1/things/{id}"] = new["paths"].pop("/v1/things/{thingId}")
    new["paths"]["/v1/things/{id}"]["parameters"][0]["name"] = "id"
    rules = {rule_id for rule_id, _ in changes_after(lambda document: document.update(new))}
    assert rules == {"parameter-removed", "parameter-added-required"}


def test_all_of_parts_are_merged() -> None:
    """A field removed from an allOf part of a response schema is a removed response field."""
    new = base_spec()
    thing = new["components"]["schemas"]["Thing"]
    new["components"]["schemas"]["Thing"] = {"allOf": [thing, {"type": "object", "properties": {"extra": {}}}]}
    base = copy.deepcopy(new)
    del new["components"]["schemas"]["Thing"]["allOf"][1]["properties"]["extra"]
    assert [(change.rule.id, change.subject) for change in wire.compare(base, new)] == [
        ("response-field-removed", "getThing 200 Thing.extra (and 1 more)")
    ]
