"""What the spec marks `deprecated: true`, as Jinja filters for the templates.

openapi-python-client reads `deprecated` on operations, parameters and schemas but keeps it in none of the
objects it hands to the templates (an `Endpoint` or a parameter's `Property`), so these filters look it up
in the spec itself: `config.document_source`, the file the generator is reading. scripts/generator.py adds
them to the generator's filter table; the templates then emit a warning only where something is deprecated.

Each message names the item and says why, from its `x-deprecation` text, else its `description`:
`legacyGetWidget is deprecated: use getWidget`. Messages are untrusted strings: the templates embed them
with `in_double_quote_literal`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from openapi_python_client.schema.untrusted_string import UntrustedString


def _text(item: Any) -> str:
    """The reason an item is deprecated, on one line: its x-deprecation, else its description, else nothing."""
    if isinstance(item, dict):
        reason = item.get("x-deprecation") or item.get("description") or ""
    else:  # a parsed schema of the generator (extra keys such as x-deprecation are kept)
        extra = getattr(item, "model_extra", None) or {}
        reason = extra.get("x-deprecation") or item.description or ""
    if isinstance(reason, UntrustedString):
        reason = reason.get_untrusted_value()
    return " ".join(str(reason).split())


def _message(subject: str, item: Any) -> UntrustedString:
    reason = _text(item)
    return UntrustedString(f"{subject} is deprecated: {reason}" if reason else f"{subject} is deprecated")


_PARAMETER = re.compile(r"\{[^}]*\}")


@functools.cache
def _spec(path: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return loaded


def _resolve(spec: dict[str, Any], item: Any) -> Any:
    while isinstance(item, dict) and isinstance(item.get("$ref"), str) and item["$ref"].startswith("#/"):
        target: Any = spec
        for part in item["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        item = target
    return item


@dataclass
class EndpointDeprecations:
    """What of one operation is deprecated: the operation's message, and (python name, required, message)
    of each deprecated parameter."""

    operation: UntrustedString | None = None
    parameters: list[tuple[str, bool, UntrustedString]] = field(default_factory=list)


def endpoint_deprecations(endpoint: Any, config: Any) -> EndpointDeprecations:
    """`{% set deprecations = endpoint | endpoint_deprecations(config) %}`."""
    spec = _spec(str(config.document_source))
    path = endpoint.path.get_untrusted_value() if isinstance(endpoint.path, UntrustedString) else str(endpoint.path)
    # The generator renames the path's parameters to their python names: match paths up to those names.
    by_shape = {_PARAMETER.sub("{}", str(key)): item for key, item in (spec.get("paths") or {}).items()}
    path_item = _resolve(spec, by_shape.get(_PARAMETER.sub("{}", path), {}))
    operation = path_item.get(str(endpoint.method).lower(), {})
    name = str(operation.get("operationId") or endpoint.name)
    found = EndpointDeprecations()
    if operation.get("deprecated") is True:
        found.operation = _message(name, operation)
    declared: dict[tuple[str, str], dict[str, Any]] = {}
    for parameter in [*path_item.get("parameters", []), *operation.get("parameters", [])]:
        parameter = _resolve(spec, parameter)  # the operation's own declaration overrides the path item's
        declared[(str(parameter.get("in")), str(parameter.get("name")))] = parameter
    locations = {
        "path": endpoint.path_parameters,
        "query": endpoint.query_parameters,
        "header": endpoint.header_parameters,
        "cookie": endpoint.cookie_parameters,
    }
    for location, properties in locations.items():
        for prop in properties:
            wire = prop.name.get_untrusted_value() if isinstance(prop.name, UntrustedString) else str(prop.name)
            parameter = declared.get((location, wire), {})
            if parameter.get("deprecated") is True:
                subject = f"the {prop.python_name} parameter of {name}"
                found.parameters.append((str(prop.python_name), bool(prop.required), _message(subject, parameter)))
    return found


def field_deprecations(model: Any) -> dict[str, UntrustedString]:
    """`model | field_deprecations`: the message of each deprecated field of a model, by its python name.

    A field is deprecated when its schema says so, in the model's own schema or one of its inline allOf parts.
    """
    schemas: dict[str, Any] = {}
    for part in [model.data, *model.data.allOf]:
        for wire, schema in (getattr(part, "properties", None) or {}).items():
            key = wire.get_untrusted_value() if isinstance(wire, UntrustedString) else str(wire)
            schemas.setdefault(key, schema)
    found: dict[str, UntrustedString] = {}
    for prop in [*model.required_properties, *model.optional_properties]:
        wire = prop.name.get_untrusted_value() if isinstance(prop.name, UntrustedString) else str(prop.name)
        schema = schemas.get(wire)
        if schema is not None and getattr(schema, "deprecated", None) is True:
            found[str(prop.python_name)] = _message(f"{model.class_info.name}.{prop.python_name}", schema)
    return found


FILTERS: dict[str, Callable[..., object]] = {
    "endpoint_deprecations": endpoint_deprecations,
    "field_deprecations": field_deprecations,
}
