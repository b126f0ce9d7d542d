"""What the sandbox knows about the API, all of it read from openapi.yaml at start-up."""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from cadenya.lib._plural import counted

# A copy of openapi.yaml that `make generate` writes into the package, so an installed sandbox has it too.
SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"
SPEC_URI = "urn:cadenya:openapi"
HTTP_METHODS = ("get", "put", "post", "patch", "delete")


_NOT_A_LINE_TERMINATOR = r"[^\n\r\u2028\u2029]"


@functools.cache
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """`pattern` read as ECMA-262 reads it, the regex dialect of JSON Schema, compiled for Python's `re`.

    Outside a character class `$` matches only at the very end (Python's also matches before a final newline)
    and `.` matches no line terminator; `\\d`, `\\w` and `\\b` are ASCII (Python's also take other scripts' digits).
    """
    translated, in_class, characters = [], False, iter(pattern)
    for character in characters:
        if character == "\\":
            translated.append(character + next(characters, ""))
        elif in_class or character not in "[$.":
            in_class = in_class and character != "]"
            translated.append(character)
        else:
            in_class = character == "["
            translated.append({"$": r"\Z", ".": _NOT_A_LINE_TERMINATOR}.get(character, character))
    return re.compile("".join(translated), re.ASCII)


def _ecma_pattern(validator: Validator, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


SchemaValidator: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"pattern": _ecma_pattern}
)
"""JSON Schema 2020-12 with `pattern` (and so `propertyNames` patterns) matched in the ECMA-262 dialect."""


class ParameterError(ValueError):
    """A query or path parameter that does not fit the spec; `field` names it."""

    def __init__(self, name: str, reason: str, location: str = "query") -> None:
        super().__init__(f"{name}: {reason}")
        self.field, self.reason, self.location = name, reason, location


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    validator: Validator

    def coerce(self, raw: list[str]) -> Any:
        """Turn the query-string text of this parameter into the JSON value its schema describes."""
        kind = self.schema.get("type")
        if kind == "array":
            return raw
        text = raw[-1]
        if kind == "boolean":
            if text not in ("true", "false"):
                raise ParameterError(self.name, "must be true or false", self.location)
            return text == "true"
        if kind == "integer":
            try:
                return int(text)
            except ValueError:
                raise ParameterError(self.name, "must be an integer", self.location) from None
        return text


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    parameters: tuple[Parameter, ...]
    body_validator: Validator | None
    body_required: bool
    responses: dict[str, Validator | None]
    """The documented answers by their spec key: a status ("201") or a range ("5XX")."""
    security: frozenset[str]
    error_codes: dict[str, frozenset[str]] = field(default_factory=dict)
    """`x-error-codes`: for each documented error status or range, the codes it may carry."""

    @property
    def error_statuses(self) -> frozenset[int]:
        """The error statuses the spec names one by one (ranges excluded)."""
        return frozenset(int(key) for key in self.responses if key.isdigit() and int(key) >= 400)

    @property
    def success_status(self) -> int:
        """The operation's documented success status (each operation has exactly one)."""
        return min(int(key) for key in self.responses if key.isdigit() and int(key) < 300)

    def response_key(self, status: int) -> str | None:
        """The spec key documenting `status`: the status itself, else its range (5XX), else None."""
        exact = str(status)
        if exact in self.responses:
            return exact
        pattern = f"{exact[0]}XX"
        return pattern if pattern in self.responses else None

    def validation_status(self, *, body: bool) -> int:
        """The documented status for a request that does not fit the spec: 422 for a body if listed, else 400."""
        if body and 422 in self.error_statuses:
            return 422
        return 400 if 400 in self.error_statuses else 422


def _rebase_refs(node: Any) -> Any:
    """Point local `#/...` references at the spec's URI, so a sub-schema can be validated on its own."""
    if isinstance(node, dict):
        return {
            key: (SPEC_URI + value if key == "$ref" and value.startswith("#") else _rebase_refs(value))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rebase_refs(item) for item in node]
    return node


class Spec:
    """The parsed spec with a JSON Schema 2020-12 validator compiled for every parameter, body and response."""

    def __init__(self, path: Path = SPEC_PATH) -> None:
        self.document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.json = json.dumps(self.document).encode()
        rebased = _rebase_refs(copy.deepcopy(self.document))
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(rebased))
        self._rebased = rebased
        self.operations = tuple(self._operations())

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def validator(self, schema: dict[str, Any]) -> Validator:
        return SchemaValidator(_rebase_refs(schema), registry=self._registry, format_checker=FormatChecker())

    def _operations(self) -> list[Operation]:
        global_security = self.document.get("security", [])
        operations = []
        for path, item in self.document["paths"].items():
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                raw = item[method]
                parameters = tuple(
                    Parameter(
                        name=p["name"],
                        location=p["in"],
                        required=p.get("required", False),
                        schema=p["schema"],
                        validator=self.validator(p["schema"]),
                    )
                    for p in (self._resolve(p) for p in [*item.get("parameters", []), *raw.get("parameters", [])])
                )
                body_validator, body_required = None, False
                if "requestBody" in raw:
                    body = self._resolve(raw["requestBody"])
                    body_validator = self.validator(body["content"]["application/json"]["schema"])
                    body_required = body.get("required", False)
                responses: dict[str, Validator | None] = {}
                for status, response in raw["responses"].items():
                    content = self._resolve(response).get("content", {}).get("application/json")
                    responses[str(status)] = self.validator(content["schema"]) if content else None
                security = frozenset(
                    name for requirement in raw.get("security", global_security) for name in requirement
                )
                operations.append(
                    Operation(
                        operation_id=raw["operationId"],
                        method=method.upper(),
                        path=path,
                        parameters=parameters,
                        body_validator=body_validator,
                        body_required=body_required,
                        responses=responses,
                        security=security,
                        error_codes={
                            str(status): frozenset(codes) for status, codes in raw.get("x-error-codes", {}).items()
                        },
                    )
                )
        return operations


def first_error(validator: Validator, instance: Any) -> ValidationError | None:
    """The first violation of `instance`, or None if it is valid.

    Validation stops there: a body of thousands of faults costs no more than one.
    """
    found: ValidationError | None = best_match(islice(validator.iter_errors(instance), 1))
    return found


# Each limit's words, and the noun its number counts (None: the limit is said as it is).
_LIMITS: dict[str, tuple[str, str | None]] = {
    "maxLength": ("is longer than", "character"),
    "minLength": ("is shorter than", "character"),
    "maxItems": ("has more than", "item"),
    "minItems": ("has fewer than", "item"),
    "maxProperties": ("has more than", "member"),
    "minProperties": ("has fewer than", "member"),
    "maximum": ("is more than", None),
    "minimum": ("is less than", None),
    "pattern": ("does not match the pattern", None),
}
MAX_MESSAGE = 200


def describe(error: ValidationError) -> str:
    """What is wrong, short: a limit names the limit rather than repeat the value, and no message is long."""
    if isinstance(error.validator, str) and error.validator in _LIMITS:
        words, noun = _LIMITS[error.validator]
        limit: Any = error.validator_value
        return f"{words} {limit if noun is None else counted(limit, noun)}"
    message = error.message
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "…"


def describe_safely(error: ValidationError) -> str:
    """Which rule of the schema failed and where, without any part of the value (which may hold a secret)."""
    return f"{error.validator} fails at /{'/'.join(map(str, error.absolute_path))}"
