"""The wire level: what changed between two versions of openapi.yaml, and what each change does to a client.

Every decision is a `Rule` of the `RULES` table. The walk pairs up operations by method and path (path
parameter names aside), parameters by location and name, responses by status, media types by name and
schema properties by name, following `$ref` into the components (and through `allOf`). Schemas are compared
in a direction:

* request: what the client sends. The new version must accept everything the old one accepted, so
  narrowing a type, tightening a constraint or removing an enum value breaks callers; widening is additive.
* response: what the client receives and parses. The new version must send nothing the old client cannot
  read, so a new type or a field that may now be missing breaks it; narrowing is compatible. Webhook
  payloads are in this direction too: the client receives them.

`readOnly` properties are left out of requests and `writeOnly` ones out of responses, as on the wire.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from scripts.breaking.model import Change, Classification, Level, Rule

BREAKING, ADDITIVE, COMPATIBLE = Classification.BREAKING, Classification.ADDITIVE, Classification.COMPATIBLE


# Formats that say something about a value without changing which values are valid or how they decode.
ANNOTATION_FORMATS = frozenset({None, "password"})


def _rule(rule_id: str, classification: Classification, summary: str, reason: str) -> Rule:
    return Rule(rule_id, Level.WIRE, classification, summary, reason)


# fmt: off
OPERATION_REMOVED = _rule("operation-removed", BREAKING, "an operation was removed", "calls to it fail, and its function is gone from the client")
OPERATION_ADDED = _rule("operation-added", ADDITIVE, "an operation was added", "existing calls are untouched")
PARAMETER_REMOVED = _rule("parameter-removed", BREAKING, "a parameter was removed", "callers that pass it lose its effect, and its argument is gone from the client")
PARAMETER_ADDED_REQUIRED = _rule("parameter-added-required", BREAKING, "a required parameter was added", "existing calls do not send it")
PARAMETER_ADDED_OPTIONAL = _rule("parameter-added-optional", ADDITIVE, "an optional parameter was added", "existing calls may leave it out")
PARAMETER_BECAME_REQUIRED = _rule("parameter-became-required", BREAKING, "an optional parameter became required", "calls that leave it out are refused")
PARAMETER_BECAME_OPTIONAL = _rule("parameter-became-optional", COMPATIBLE, "a required parameter became optional", "calls that send it keep working")
REQUEST_BODY_REMOVED = _rule("request-body-removed", BREAKING, "an operation no longer takes a request body", "callers that send one lose it, and its argument is gone from the client")
REQUEST_BODY_ADDED_REQUIRED = _rule("request-body-added-required", BREAKING, "an operation now requires a request body", "existing calls send none")
REQUEST_BODY_ADDED_OPTIONAL = _rule("request-body-added-optional", ADDITIVE, "an operation now takes an optional request body", "existing calls may leave it out")
REQUEST_BODY_BECAME_REQUIRED = _rule("request-body-became-required", BREAKING, "an optional request body became required", "calls without a body are refused")
REQUEST_BODY_BECAME_OPTIONAL = _rule("request-body-became-optional", COMPATIBLE, "a required request body became optional", "calls that send one keep working")
REQUEST_MEDIA_TYPE_REMOVED = _rule("request-media-type-removed", BREAKING, "a request body media type is no longer accepted", "callers that send it are refused")
REQUEST_MEDIA_TYPE_ADDED = _rule("request-media-type-added", ADDITIVE, "a request body media type is now accepted", "existing calls are untouched")
REQUEST_FIELD_REMOVED = _rule("request-field-removed", BREAKING, "a request body field was removed", "request schemas refuse unknown fields (additionalProperties: false), so callers that send it are refused; the model loses its argument")
REQUEST_FIELD_ADDED_REQUIRED = _rule("request-field-added-required", BREAKING, "a required request body field was added", "existing calls do not send it")
REQUEST_FIELD_ADDED_OPTIONAL = _rule("request-field-added-optional", ADDITIVE, "an optional request body field was added", "existing calls may leave it out")
REQUEST_FIELD_BECAME_REQUIRED = _rule("request-field-became-required", BREAKING, "an optional request body field became required", "calls that leave it out are refused")
REQUEST_FIELD_BECAME_OPTIONAL = _rule("request-field-became-optional", COMPATIBLE, "a required request body field became optional", "calls that send it keep working")
RESPONSE_FIELD_REMOVED = _rule("response-field-removed", BREAKING, "a response field was removed", "code that reads it finds it missing, and the model loses its attribute")
RESPONSE_FIELD_ADDED = _rule("response-field-added", ADDITIVE, "a response field was added", "the client keeps fields it does not know in additional_properties")
RESPONSE_FIELD_BECAME_REQUIRED = _rule("response-field-became-required", COMPATIBLE, "an optional response field became required", "it is now always sent; code that handled its absence still works")
RESPONSE_FIELD_BECAME_OPTIONAL = _rule("response-field-became-optional", BREAKING, "a required response field became optional", "code that reads it may find it missing (UNSET)")
REQUEST_TYPE_CHANGED = _rule("request-type-changed", BREAKING, "a request value's type was narrowed or changed", "values callers send may no longer be accepted")
REQUEST_TYPE_WIDENED = _rule("request-type-widened", ADDITIVE, "a request value's type was widened", "every value accepted before is still accepted")
RESPONSE_TYPE_CHANGED = _rule("response-type-changed", BREAKING, "a response value's type was widened or changed", "the client may receive a type it does not parse")
RESPONSE_TYPE_NARROWED = _rule("response-type-narrowed", COMPATIBLE, "a response value's type was narrowed", "every value sent is one the client already parses")
REQUEST_FORMAT_CHANGED = _rule("request-format-changed", BREAKING, "a request value's format was added or changed", "values callers send may no longer be accepted")
REQUEST_FORMAT_REMOVED = _rule("request-format-removed", ADDITIVE, "a request value's format was removed", "every value accepted before is still accepted")
RESPONSE_FORMAT_CHANGED = _rule("response-format-changed", BREAKING, "a response value's format was added, removed or changed", "the client decodes by format (a date-time becomes a datetime), so the value it gives callers changes")
FORMAT_ANNOTATION_CHANGED = _rule("format-annotation-changed", ADDITIVE, "a value's format changed only between annotations (`password`, or none)", "no client decodes or validates by it: the values on the wire are the same; `password` tells clients to keep the value out of logs")
REQUEST_ENUM_VALUE_REMOVED = _rule("request-enum-value-removed", BREAKING, "a request enum lost a value", "callers that send it are refused")
REQUEST_ENUM_VALUE_ADDED = _rule("request-enum-value-added", ADDITIVE, "a request enum gained a value", "existing calls are untouched")
RESPONSE_ENUM_VALUE_ADDED = _rule("response-enum-value-added", ADDITIVE, "a response enum gained a value", "the generated enums are `XKnown | UnrecognizedStr`: the client keeps an unknown value as its string")
RESPONSE_ENUM_VALUE_REMOVED = _rule("response-enum-value-removed", COMPATIBLE, "a response enum lost a value", "the client never receives it; code that handled it still works")
REQUEST_VARIANT_REMOVED = _rule("request-variant-removed", BREAKING, "a oneOf/anyOf alternative of a request value was removed", "callers that send that shape are refused")
REQUEST_VARIANT_ADDED = _rule("request-variant-added", ADDITIVE, "a oneOf/anyOf alternative of a request value was added", "every shape accepted before is still accepted")
RESPONSE_VARIANT_ADDED = _rule("response-variant-added", BREAKING, "a oneOf/anyOf alternative of a response value was added", "the client cannot parse a shape it does not know")
RESPONSE_VARIANT_REMOVED = _rule("response-variant-removed", COMPATIBLE, "a oneOf/anyOf alternative of a response value was removed", "every shape sent is one the client already parses")
REQUEST_CONSTRAINT_TIGHTENED = _rule("request-constraint-tightened", BREAKING, "a request constraint was tightened (maxLength, minimum, pattern, enum, additionalProperties...)", "values callers send may no longer be accepted")
REQUEST_CONSTRAINT_LOOSENED = _rule("request-constraint-loosened", ADDITIVE, "a request constraint was loosened or removed", "every value accepted before is still accepted")
RESPONSE_CONSTRAINT_CHANGED = _rule("response-constraint-changed", COMPATIBLE, "a response constraint changed", "the client does not validate constraints of what it receives")
SUCCESS_STATUS_REMOVED = _rule("success-status-removed", BREAKING, "a documented success status was removed", "the client no longer parses the answer callers relied on")
SUCCESS_STATUS_ADDED = _rule("success-status-added", BREAKING, "a success status was added", "a client built before it does not parse that answer (parsed is None, or UnexpectedStatus is raised)")
ERROR_STATUS_ADDED = _rule("error-status-added", ADDITIVE, "an error status was added", "errors are handled by status class; an unknown error status is still an error")
ERROR_STATUS_REMOVED = _rule("error-status-removed", COMPATIBLE, "an error status was removed", "the client no longer receives it; code that handled it still works")
RESPONSE_MEDIA_TYPE_REMOVED = _rule("response-media-type-removed", BREAKING, "a response body (or one of its media types) was removed", "code that read that body gets nothing")
RESPONSE_MEDIA_TYPE_ADDED = _rule("response-media-type-added", ADDITIVE, "a response body (or a media type) was added", "code that ignored the body is untouched")
SECURITY_CHANGED = _rule("security-changed", BREAKING, "an operation's security requirements changed", "credentials that were accepted may be refused")
SECURITY_ALTERNATIVE_ADDED = _rule("security-alternative-added", ADDITIVE, "an operation accepts another kind of credentials", "the credentials accepted before still are")
SECURITY_SCHEME_CHANGED = _rule("security-scheme-changed", BREAKING, "a security scheme was removed or changed how credentials are sent", "credentials sent as before are refused")
WEBHOOK_REMOVED = _rule("webhook-removed", BREAKING, "a webhook event was removed", "receivers no longer get the event they handle")
WEBHOOK_ADDED = _rule("webhook-added", ADDITIVE, "a webhook event was added", "receivers keep an unknown event kind as a generic WebhookEvent")
# fmt: on

RULES: dict[str, Rule] = {rule.id: rule for rule in list(globals().values()) if isinstance(rule, Rule)}
"""Every wire rule by id, in the order above."""

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})


class Direction(enum.Enum):
    REQUEST = "request"
    RESPONSE = "response"


@dataclass(frozen=True)
class _Constraint:
    """A schema keyword that bounds the values a schema accepts.

    `tighter(old, new)` says whether a change of a value present on both sides accepts fewer values; a
    keyword that appears is a tightening and one that disappears a loosening.
    """

    keyword: str
    tighter: Callable[[Any, Any], bool]


def _smaller(old: Any, new: Any) -> bool:
    return bool(new < old)


def _larger(old: Any, new: Any) -> bool:
    return bool(new > old)


def _any_change(old: Any, new: Any) -> bool:
    # Two regular expressions (or two divisors) cannot be ordered: any change may refuse a value.
    return bool(old != new)


CONSTRAINTS = (
    _Constraint("maxLength", _smaller),
    _Constraint("maxItems", _smaller),
    _Constraint("maxProperties", _smaller),
    _Constraint("maximum", _smaller),
    _Constraint("exclusiveMaximum", _smaller),
    _Constraint("minLength", _larger),
    _Constraint("minItems", _larger),
    _Constraint("minProperties", _larger),
    _Constraint("minimum", _larger),
    _Constraint("exclusiveMinimum", _larger),
    _Constraint("pattern", _any_change),
    _Constraint("multipleOf", _any_change),
)


class Spec:
    """An OpenAPI document with its local `$ref`s followed on demand."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def resolve(self, node: Any) -> tuple[Any, str | None]:
        """`node` with its `$ref` chain followed, and the name of the last component it went through."""
        name = None
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith("#/") or ref in seen:
                raise ValueError(f"cannot follow $ref {ref!r}: only local, acyclic references are supported")
            seen.add(ref)
            target: Any = self.document
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node, name = target, ref.rsplit("/", 1)[-1]
        return node, name

    def flatten(self, schema: dict[str, Any]) -> dict[str, Any]:
        """`schema` with its `allOf` parts merged in: properties and required fields of all of them."""
        if "allOf" not in schema:
            return schema
        merged: dict[str, Any] = {key: value for key, value in schema.items() if key != "allOf"}
        properties = dict(merged.get("properties", {}))
        required = list(merged.get("required", []))
        for part in schema["allOf"]:
            resolved = self.flatten(self.resolve(part)[0])
            properties.update(resolved.get("properties", {}))
            required += [name for name in resolved.get("required", []) if name not in required]
            for key, value in resolved.items():
                if key not in ("properties", "required"):
                    merged.setdefault(key, value)
        if properties:
            merged["properties"] = properties
        if required:
            merged["required"] = required
        return merged


@dataclass(frozen=True)
class _At:
    """Where a schema is: the operation (and status) that reaches it, and the path inside the schema.

    A path that starts at a component (`Account.name`) is `shared`: the same change seen from several
    operations is one change.
    """

    where: str
    path: str = ""
    shared: bool = False

    def child(self, suffix: str) -> _At:
        return _At(self.where, f"{self.path}{suffix}" if self.path else suffix.lstrip("."), self.shared)

    def component(self, name: str) -> _At:
        return _At(self.where, name, shared=True)


@dataclass
class _Found:
    rule: Rule
    at: _At
    detail: str


@dataclass
class _Walk:
    """The changes found so far, and the schema pairs already compared (so recursive schemas end)."""

    base: Spec
    new: Spec
    found: list[_Found] = field(default_factory=list)
    seen: set[tuple[int, int, _At, Direction]] = field(default_factory=set)

    def emit(self, rule: Rule, at: _At | str, detail: str = "") -> None:
        self.found.append(_Found(rule, _At(at) if isinstance(at, str) else at, detail))


def _types(schema: dict[str, Any]) -> frozenset[str]:
    """The JSON types `schema` accepts; every type when it says nothing about them."""
    if "const" in schema:
        types = {_json_type(schema["const"])}
    elif "enum" in schema and "type" not in schema:
        types = {_json_type(value) for value in schema["enum"]}
    elif isinstance(schema.get("type"), str):
        types = {schema["type"]}
    elif isinstance(schema.get("type"), list):
        types = set(schema["type"])
    elif "properties" in schema or "additionalProperties" in schema:
        types = {"object"}
    elif "items" in schema:
        types = {"array"}
    else:
        return JSON_TYPES
    if schema.get("nullable") is True:
        types.add("null")
    return frozenset(types)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _covers(wider: frozenset[str], narrower: frozenset[str]) -> bool:
    """Whether every value of the types `narrower` is also of the types `wider` (an integer is a number)."""
    return all(t in wider or (t == "integer" and "number" in wider) for t in narrower)


def _enum_values(schema: dict[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    enum_values = schema.get("enum")
    return list(enum_values) if isinstance(enum_values, list) else None


def _type_label(types: frozenset[str]) -> str:
    return "any" if types == JSON_TYPES else "|".join(sorted(types))


def _compare_schema(
    walk: _Walk,
    old_node: Any,
    new_node: Any,
    direction: Direction,
    at: _At,
    *,
    named_by_ref: bool = True,
) -> None:
    old, old_name = walk.base.resolve(old_node)
    new, new_name = walk.new.resolve(new_node)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return
    name = new_name or old_name
    if named_by_ref and name:
        at = at.component(name)
    key = (id(old), id(new), at, direction)
    if key in walk.seen:
        return
    walk.seen.add(key)
    old, new = walk.base.flatten(old), walk.new.flatten(new)
    request = direction is Direction.REQUEST

    old_types, new_types = _types(old), _types(new)
    if old_types != new_types:
        detail = f"{_type_label(old_types)} -> {_type_label(new_types)}"
        if request:
            rule = REQUEST_TYPE_WIDENED if _covers(new_types, old_types) else REQUEST_TYPE_CHANGED
        else:
            rule = RESPONSE_TYPE_NARROWED if _covers(old_types, new_types) else RESPONSE_TYPE_CHANGED
        walk.emit(rule, at, detail)

    old_format, new_format = old.get("format"), new.get("format")
    if old_format != new_format:
        detail = f"format {old_format} -> {new_format}"
        if {old_format, new_format} <= ANNOTATION_FORMATS:
            walk.emit(FORMAT_ANNOTATION_CHANGED, at, detail)
        elif not request:
            walk.emit(RESPONSE_FORMAT_CHANGED, at, detail)
        else:
            walk.emit(REQUEST_FORMAT_REMOVED if new_format is None else REQUEST_FORMAT_CHANGED, at, detail)

    _compare_enums(walk, old, new, direction, at)
    _compare_constraints(walk, old, new, direction, at)
    _compare_properties(walk, old, new, direction, at)
    if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
        _compare_schema(walk, old["items"], new["items"], direction, at.child("[]"))
    if isinstance(old.get("additionalProperties"), dict) and isinstance(new.get("additionalProperties"), dict):
        _compare_schema(walk, old["additionalProperties"], new["additionalProperties"], direction, at.child("{}"))
    _compare_variants(walk, old, new, direction, at)


def _compare_enums(walk: _Walk, old: dict[str, Any], new: dict[str, Any], direction: Direction, at: _At) -> None:
    old_values, new_values = _enum_values(old), _enum_values(new)
    request = direction is Direction.REQUEST
    if old_values is None or new_values is None:
        if old_values is None and new_values is None:
            return
        detail = "enum added" if old_values is None else "enum removed"
        if not request:
            walk.emit(RESPONSE_CONSTRAINT_CHANGED, at, detail)
        else:
            walk.emit(REQUEST_CONSTRAINT_TIGHTENED if old_values is None else REQUEST_CONSTRAINT_LOOSENED, at, detail)
        return
    for value in old_values:
        if value not in new_values:
            walk.emit(REQUEST_ENUM_VALUE_REMOVED if request else RESPONSE_ENUM_VALUE_REMOVED, at, repr(value))
    for value in new_values:
        if value not in old_values:
            walk.emit(REQUEST_ENUM_VALUE_ADDED if request else RESPONSE_ENUM_VALUE_ADDED, at, repr(value))


def _compare_constraints(walk: _Walk, old: dict[str, Any], new: dict[str, Any], direction: Direction, at: _At) -> None:
    changes: list[tuple[bool, str]] = []
    for constraint in CONSTRAINTS:
        old_value, new_value = old.get(constraint.keyword), new.get(constraint.keyword)
        if old_value == new_value:
            continue
        if old_value is None or new_value is None:
            tightened = old_value is None
        else:
            tightened = constraint.tighter(old_value, new_value)
        changes.append((tightened, f"{constraint.keyword} {old_value} -> {new_value}"))
    if bool(old.get("uniqueItems")) != bool(new.get("uniqueItems")):
        changes.append(
            (bool(new.get("uniqueItems")), f"uniqueItems {old.get('uniqueItems')} -> {new.get('uniqueItems')}")
        )
    old_closed, new_closed = old.get("additionalProperties") is False, new.get("additionalProperties") is False
    if old_closed != new_closed:
        changes.append(
            (
                new_closed,
                f"additionalProperties {'false' if old_closed else 'allowed'} -> {'false' if new_closed else 'allowed'}",
            )
        )
    for tightened, detail in changes:
        if direction is Direction.RESPONSE:
            walk.emit(RESPONSE_CONSTRAINT_CHANGED, at, detail)
        else:
            walk.emit(REQUEST_CONSTRAINT_TIGHTENED if tightened else REQUEST_CONSTRAINT_LOOSENED, at, detail)


def _visible_properties(spec: Spec, schema: dict[str, Any], direction: Direction) -> dict[str, Any]:
    hidden = "readOnly" if direction is Direction.REQUEST else "writeOnly"
    visible = {}
    for name, node in schema.get("properties", {}).items():
        resolved, _ = spec.resolve(node)
        if not (isinstance(resolved, dict) and resolved.get(hidden) is True):
            visible[name] = node
    return visible


def _compare_properties(walk: _Walk, old: dict[str, Any], new: dict[str, Any], direction: Direction, at: _At) -> None:
    old_properties = _visible_properties(walk.base, old, direction)
    new_properties = _visible_properties(walk.new, new, direction)
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    request = direction is Direction.REQUEST
    for name in old_properties:
        location = at.child(f".{name}")
        if name not in new_properties:
            walk.emit(REQUEST_FIELD_REMOVED if request else RESPONSE_FIELD_REMOVED, location)
            continue
        was_required, is_required = name in old_required, name in new_required
        if was_required != is_required:
            if request:
                rule = REQUEST_FIELD_BECAME_REQUIRED if is_required else REQUEST_FIELD_BECAME_OPTIONAL
            else:
                rule = RESPONSE_FIELD_BECAME_REQUIRED if is_required else RESPONSE_FIELD_BECAME_OPTIONAL
            walk.emit(rule, location)
        _compare_schema(walk, old_properties[name], new_properties[name], direction, location)
    for name in new_properties:
        if name not in old_properties:
            if request:
                rule = REQUEST_FIELD_ADDED_REQUIRED if name in new_required else REQUEST_FIELD_ADDED_OPTIONAL
            else:
                rule = RESPONSE_FIELD_ADDED
            walk.emit(rule, at.child(f".{name}"))


def _variant_key(spec: Spec, node: Any, index: int) -> str:
    _, name = spec.resolve(node)
    return name if name is not None else f"#{index}"


def _compare_variants(walk: _Walk, old: dict[str, Any], new: dict[str, Any], direction: Direction, at: _At) -> None:
    request = direction is Direction.REQUEST
    for keyword in ("oneOf", "anyOf"):
        old_variants = {_variant_key(walk.base, node, i): node for i, node in enumerate(old.get(keyword, []))}
        new_variants = {_variant_key(walk.new, node, i): node for i, node in enumerate(new.get(keyword, []))}
        for key, node in old_variants.items():
            if key in new_variants:
                _compare_schema(walk, node, new_variants[key], direction, at)
            else:
                walk.emit(REQUEST_VARIANT_REMOVED if request else RESPONSE_VARIANT_REMOVED, at, f"{keyword} {key}")
        for key in new_variants:
            if key not in old_variants:
                walk.emit(REQUEST_VARIANT_ADDED if request else RESPONSE_VARIANT_ADDED, at, f"{keyword} {key}")


@dataclass(frozen=True)
class _Operation:
    label: str
    node: dict[str, Any]
    parameters: dict[tuple[str, str], Any]
    webhook: bool = False


def _normalised_path(path: str) -> str:
    """The path with its parameter names blanked: `/v1/keys/{id}` and `/v1/keys/{keyId}` are one path."""
    parts = [("{}" if part.startswith("{") and part.endswith("}") else part) for part in path.split("/")]
    return "/".join(parts)


def _parameter_key(spec: Spec, node: Any) -> tuple[str, str]:
    resolved, _ = spec.resolve(node)
    name = str(resolved["name"])
    return (str(resolved["in"]), name.lower() if resolved["in"] == "header" else name)


def _operations(spec: Spec) -> dict[tuple[str, ...], _Operation]:
    operations: dict[tuple[str, ...], _Operation] = {}
    for path, item in (spec.document.get("paths") or {}).items():
        item, _ = spec.resolve(item)
        shared = {_parameter_key(spec, node): node for node in item.get("parameters", [])}
        for method in HTTP_METHODS:
            if method in item:
                node = item[method]
                parameters = shared | {_parameter_key(spec, p): p for p in node.get("parameters", [])}
                label = node.get("operationId") or f"{method.upper()} {path}"
                operations[(method, _normalised_path(path))] = _Operation(label, node, parameters)
    for name, item in (spec.document.get("webhooks") or {}).items():
        item, _ = spec.resolve(item)
        for method in HTTP_METHODS:
            if method in item:
                operations[("webhook", name, method)] = _Operation(f"webhook {name}", item[method], {}, webhook=True)
    return operations


def _compare_parameters(walk: _Walk, old: _Operation, new: _Operation) -> None:
    for key, node in old.parameters.items():
        where = f"{new.label} {key[0]} {walk.base.resolve(node)[0]['name']}"
        if key not in new.parameters:
            walk.emit(PARAMETER_REMOVED, where)
            continue
        old_parameter, new_parameter = walk.base.resolve(node)[0], walk.new.resolve(new.parameters[key])[0]
        was_required, is_required = bool(old_parameter.get("required")), bool(new_parameter.get("required"))
        if was_required != is_required:
            walk.emit(PARAMETER_BECAME_REQUIRED if is_required else PARAMETER_BECAME_OPTIONAL, where)
        if "schema" in old_parameter and "schema" in new_parameter:
            _compare_schema(
                walk,
                old_parameter["schema"],
                new_parameter["schema"],
                Direction.REQUEST,
                _At(where),
                named_by_ref=False,
            )
    for key, node in new.parameters.items():
        if key not in old.parameters:
            parameter = walk.new.resolve(node)[0]
            rule = PARAMETER_ADDED_REQUIRED if parameter.get("required") else PARAMETER_ADDED_OPTIONAL
            walk.emit(rule, f"{new.label} {key[0]} {parameter['name']}")


def _compare_request_body(walk: _Walk, old: _Operation, new: _Operation) -> None:
    old_body = walk.base.resolve(old.node["requestBody"])[0] if "requestBody" in old.node else None
    new_body = walk.new.resolve(new.node["requestBody"])[0] if "requestBody" in new.node else None
    # A webhook's body is what the client receives: it is compared as a response.
    direction = Direction.RESPONSE if new.webhook else Direction.REQUEST
    where = new.label if new.webhook else f"{new.label} request"
    if old_body is None and new_body is None:
        return
    if old_body is None or new_body is None:
        if new_body is None:
            walk.emit(REQUEST_BODY_REMOVED, where)
        else:
            walk.emit(REQUEST_BODY_ADDED_REQUIRED if new_body.get("required") else REQUEST_BODY_ADDED_OPTIONAL, where)
        return
    if not new.webhook and bool(old_body.get("required")) != bool(new_body.get("required")):
        walk.emit(REQUEST_BODY_BECAME_REQUIRED if new_body.get("required") else REQUEST_BODY_BECAME_OPTIONAL, where)
    _compare_content(walk, old_body.get("content", {}), new_body.get("content", {}), direction, where)


def _compare_content(walk: _Walk, old: dict[str, Any], new: dict[str, Any], direction: Direction, where: str) -> None:
    request = direction is Direction.REQUEST
    for media_type, old_media in old.items():
        if media_type not in new:
            walk.emit(REQUEST_MEDIA_TYPE_REMOVED if request else RESPONSE_MEDIA_TYPE_REMOVED, where, media_type)
        elif "schema" in old_media and "schema" in new[media_type]:
            _compare_schema(walk, old_media["schema"], new[media_type]["schema"], direction, _At(where))
    for media_type in new:
        if media_type not in old:
            walk.emit(REQUEST_MEDIA_TYPE_ADDED if request else RESPONSE_MEDIA_TYPE_ADDED, where, media_type)


def _is_success(status: str) -> bool:
    return status.startswith("2")


def _compare_responses(walk: _Walk, old: _Operation, new: _Operation) -> None:
    old_responses = {str(status): node for status, node in (old.node.get("responses") or {}).items()}
    new_responses = {str(status): node for status, node in (new.node.get("responses") or {}).items()}
    for status, node in old_responses.items():
        where = f"{new.label} {status}"
        if status not in new_responses:
            walk.emit(SUCCESS_STATUS_REMOVED if _is_success(status) else ERROR_STATUS_REMOVED, where)
            continue
        old_response, new_response = walk.base.resolve(node)[0], walk.new.resolve(new_responses[status])[0]
        _compare_content(
            walk, old_response.get("content") or {}, new_response.get("content") or {}, Direction.RESPONSE, where
        )
    for status in new_responses:
        if status not in old_responses:
            walk.emit(SUCCESS_STATUS_ADDED if _is_success(status) else ERROR_STATUS_ADDED, f"{new.label} {status}")


def _requirements(spec: Spec, operation: _Operation) -> frozenset[frozenset[tuple[str, tuple[str, ...]]]]:
    """The operation's security: the alternatives, each a set of schemes (with scopes) sent together."""
    security = operation.node.get("security", spec.document.get("security", []))
    return frozenset(
        frozenset((scheme, tuple(sorted(scopes))) for scheme, scopes in requirement.items()) for requirement in security
    )


def _requirement_label(requirement: frozenset[tuple[str, tuple[str, ...]]]) -> str:
    return "+".join(sorted(scheme for scheme, _ in requirement)) or "none"


def _compare_security(walk: _Walk, old: _Operation, new: _Operation) -> None:
    old_security, new_security = _requirements(walk.base, old), _requirements(walk.new, new)
    if old_security == new_security:
        return
    detail = (
        f"{', '.join(sorted(map(_requirement_label, old_security)))} -> "
        f"{', '.join(sorted(map(_requirement_label, new_security)))}"
    )
    walk.emit(SECURITY_ALTERNATIVE_ADDED if old_security <= new_security else SECURITY_CHANGED, new.label, detail)


SCHEME_FIELDS = ("type", "scheme", "in", "name", "openIdConnectUrl")
"""The fields of a security scheme that decide how credentials are sent (not how they are described)."""


def _compare_security_schemes(walk: _Walk) -> None:
    old_schemes = (walk.base.document.get("components") or {}).get("securitySchemes") or {}
    new_schemes = (walk.new.document.get("components") or {}).get("securitySchemes") or {}
    for name, node in old_schemes.items():
        old_scheme = walk.base.resolve(node)[0]
        if name not in new_schemes:
            walk.emit(SECURITY_SCHEME_CHANGED, f"securityScheme {name}", "removed")
            continue
        new_scheme = walk.new.resolve(new_schemes[name])[0]
        for key in SCHEME_FIELDS:
            if old_scheme.get(key) != new_scheme.get(key):
                detail = f"{key} {old_scheme.get(key)} -> {new_scheme.get(key)}"
                walk.emit(SECURITY_SCHEME_CHANGED, f"securityScheme {name}", detail)


def _operation_at(key: tuple[str, ...], operation: _Operation) -> _At:
    return _At(operation.label if operation.webhook else f"{operation.label} {key[0].upper()} {key[1]}")


def _walk(base_document: dict[str, Any], new_document: dict[str, Any]) -> Iterator[_Found]:
    walk = _Walk(Spec(base_document), Spec(new_document))
    old_operations, new_operations = _operations(walk.base), _operations(walk.new)
    for key, old in old_operations.items():
        if key not in new_operations:
            walk.emit(WEBHOOK_REMOVED if old.webhook else OPERATION_REMOVED, _operation_at(key, old))
            continue
        new = new_operations[key]
        _compare_request_body(walk, old, new)
        if not new.webhook:
            _compare_parameters(walk, old, new)
            _compare_responses(walk, old, new)
            _compare_security(walk, old, new)
    for key, new in new_operations.items():
        if key not in old_operations:
            walk.emit(WEBHOOK_ADDED if new.webhook else OPERATION_ADDED, _operation_at(key, new))
    _compare_security_schemes(walk)
    return iter(walk.found)


def compare(base: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every wire change from `base` to `new`, one per rule and place.

    A component reached from several operations changes once: it is reported at the first operation,
    with how many more reach it.
    """
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for found in _walk(base, new):
        at = found.at
        # A shared place is named by its component alone; any other includes its operation.
        place = at.path if at.shared else f"{at.where} {at.path}".strip()
        wheres = grouped.setdefault((found.rule.id, place, found.detail), [])
        if at.where not in wheres:
            wheres.append(at.where)
    changes = []
    for (rule_id, place, detail), wheres in grouped.items():
        subject = place
        if len(wheres) > 1 or not place.startswith(wheres[0]):
            subject = f"{wheres[0]} {place}" + (f" (and {len(wheres) - 1} more)" if len(wheres) > 1 else "")
        changes.append(Change(RULES[rule_id], subject, detail))
    return sorted(changes, key=lambda change: change.sort_key)
