"""openapi.yaml says everything the API does on the wire: error codes, headers, 5xx, examples, descriptions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.helpers import operations, resolve

SPEC_URI = "urn:test:openapi"


def _error_statuses(op: dict[str, Any]) -> list[str]:
    return [status for status in op["responses"] if not status.startswith("2")]


def _headers(spec: dict[str, Any], response: dict[str, Any]) -> set[str]:
    return {name.lower() for name in resolve(spec, response).get("headers", {})}


def test_every_error_code_is_in_the_error_code_enum(spec: dict[str, Any]) -> None:
    """`Error.code` is the ErrorCode enum, and every code an operation lists is one of its values."""
    enum = spec["components"]["schemas"]["ErrorCode"]["enum"]
    assert spec["components"]["schemas"]["Error"]["properties"]["code"] == {"$ref": "#/components/schemas/ErrorCode"}
    for _, _, op in operations(spec):
        for status, codes in op["x-error-codes"].items():
            assert set(codes) <= set(enum), (op["operationId"], status, set(codes) - set(enum))


def test_each_error_code_is_described(spec: dict[str, Any]) -> None:
    """x-enum-descriptions gives one description per code, starting with the statuses that carry it."""
    schema = spec["components"]["schemas"]["ErrorCode"]
    assert len(schema["x-enum-descriptions"]) == len(schema["enum"]) == len(set(schema["enum"]))
    for description in schema["x-enum-descriptions"]:
        assert description[:3].isdigit(), description


def test_every_error_status_of_every_operation_names_its_codes(spec: dict[str, Any]) -> None:
    """x-error-codes has exactly the operation's error statuses as keys, each with at least one code."""
    for _, _, op in operations(spec):
        assert list(op["x-error-codes"]) == _error_statuses(op), op["operationId"]
        assert all(op["x-error-codes"].values()), op["operationId"]


def test_every_error_code_is_answered_somewhere(spec: dict[str, Any]) -> None:
    """No code of the enum is dead: each is listed by an operation, except 405, which no operation answers."""
    listed = {code for _, _, op in operations(spec) for codes in op["x-error-codes"].values() for code in codes}
    assert set(spec["components"]["schemas"]["ErrorCode"]["enum"]) - listed == {"method_not_allowed"}


def test_every_operation_documents_server_errors_with_the_error_body(spec: dict[str, Any]) -> None:
    """A 5XX range with the Error body on every operation, so a 503 parses as Error."""
    for _, _, op in operations(spec):
        server_error = resolve(spec, op["responses"]["5XX"])
        assert server_error["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        assert op["x-error-codes"]["5XX"] == ["internal", "unavailable"]


def test_every_answer_declares_its_request_id(spec: dict[str, Any]) -> None:
    """X-Request-Id is declared on every response of every operation."""
    for _, _, op in operations(spec):
        for status, response in op["responses"].items():
            assert "x-request-id" in _headers(spec, response), (op["operationId"], status)


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        pytest.param("409", {"x-should-retry"}, id="409-should-retry"),
        pytest.param("429", {"retry-after", "retry-after-ms", "x-should-retry"}, id="429-retry-after"),
        pytest.param("5XX", {"retry-after", "retry-after-ms", "x-should-retry"}, id="5xx-retry-after"),
    ],
)
def test_retry_headers_are_declared_where_they_are_sent(spec: dict[str, Any], status: str, headers: set[str]) -> None:
    """The headers the client's retry decision reads are declared on the statuses that carry them."""
    for _, _, op in operations(spec):
        if status in op["responses"]:
            assert headers <= _headers(spec, op["responses"][status]), op["operationId"]


def test_post_successes_declare_the_idempotent_replay_header(spec: dict[str, Any]) -> None:
    """Every POST takes an Idempotency-Key, and its success answer may say it is a replay."""
    for method, _, op in operations(spec):
        if method != "post":
            continue
        assert {"$ref": "#/components/parameters/IdempotencyKey"} in op["parameters"], op["operationId"]
        for status, response in op["responses"].items():
            if status.startswith("2"):
                assert "idempotent-replayed" in _headers(spec, response), op["operationId"]


def test_every_operation_has_a_summary_and_a_description(spec: dict[str, Any]) -> None:
    """Operations say what they do, so the generated docstrings do too."""
    for _, _, op in operations(spec):
        assert op.get("summary") and op.get("description"), op["operationId"]


def _parameters(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for parameter in item.get("parameters", []):
            yield path, resolve(spec, parameter)
        for method in ("get", "put", "post", "patch", "delete"):
            for parameter in item.get(method, {}).get("parameters", []):
                yield f"{method} {path}", resolve(spec, parameter)


def test_every_parameter_is_described_where_the_generator_reads_it(spec: dict[str, Any]) -> None:
    """The generator takes a parameter's docstring from its schema: it must match the parameter's description."""
    for where, parameter in _parameters(spec):
        assert parameter["description"], (where, parameter["name"])
        assert parameter["schema"].get("description") == parameter["description"], (where, parameter["name"])


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    resource: Resource[Any] = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return Draft202012Validator(_rebase(schema), registry=registry, format_checker=FormatChecker())


def _rebase(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: (SPEC_URI + v if k == "$ref" and v.startswith("#") else _rebase(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase(item) for item in node]
    return node


def _media_examples(spec: dict[str, Any], where: str, response: dict[str, Any]) -> Iterator[pytest.ParameterSet]:
    for media in response.get("content", {}).values():
        if "example" in media:
            yield pytest.param(media["schema"], media["example"], id=where)
        for name, example in media.get("examples", {}).items():
            yield pytest.param(media["schema"], resolve(spec, example)["value"], id=f"{where} {name}")


def _examples(spec: dict[str, Any]) -> Iterator[pytest.ParameterSet]:
    """Every example of the spec, each once, with the schema it illustrates."""
    components = spec["components"]
    for _, _, op in operations(spec):
        for status, response in op["responses"].items():
            if "$ref" not in response:
                yield from _media_examples(spec, f"{op['operationId']} {status}", response)
        for parameter in op.get("parameters", []):
            if "$ref" not in parameter and "example" in parameter:
                yield pytest.param(
                    parameter["schema"], parameter["example"], id=f"{op['operationId']} {parameter['name']}"
                )
    for name, response in components["responses"].items():
        yield from _media_examples(spec, f"response {name}", response)
    for kind in ("headers", "parameters"):
        for name, item in components[kind].items():
            if "example" in item:
                yield pytest.param(item["schema"], item["example"], id=f"{kind} {name}")
    for name, schema in components["schemas"].items():
        for index, example in enumerate(schema.get("examples", [])):
            yield pytest.param(schema, example, id=f"schema {name} {index}")


def _all_examples() -> list[pytest.ParameterSet]:
    from tests.helpers import load_spec

    return list(_examples(load_spec()))


@pytest.mark.parametrize(("schema", "example"), _all_examples())
def test_every_example_is_valid_against_its_schema(spec: dict[str, Any], schema: dict[str, Any], example: Any) -> None:
    """Examples fit their schemas, patterns and formats included."""
    errors = sorted(_validator(spec, schema).iter_errors(example), key=str)
    assert not errors, [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def test_examples_are_realistic(spec: dict[str, Any]) -> None:
    """No placeholder values such as `id: id` or `string`, which linters and readers take for real data."""
    placeholders: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if item == key or item == "string":
                    placeholders.append(f"{path}/{key}")
                walk(item, f"{path}/{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}/{index}")

    for parameter_set in _examples(spec):
        walk(parameter_set.values[1], str(parameter_set.id))
    assert not placeholders


def _error_examples(spec: dict[str, Any], response: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(example name, its `code`) for every example of an error response, `example` or `examples`."""
    media = resolve(spec, response)["content"]["application/json"]
    if "example" in media:
        yield "example", media["example"]["code"]
    for name, example in media.get("examples", {}).items():
        yield name, resolve(spec, example)["value"]["code"]


def test_every_error_example_shows_a_code_its_operation_answers(spec: dict[str, Any]) -> None:
    """An error response's examples use only codes that the operation's x-error-codes list for that status."""
    stray = [
        (op["operationId"], status, name, code)
        for _, _, op in operations(spec)
        for status, response in op["responses"].items()
        if not status.startswith("2")
        for name, code in _error_examples(spec, response)
        if code not in op["x-error-codes"][status]
    ]
    assert not stray


def test_every_error_code_of_an_operation_has_an_example(spec: dict[str, Any]) -> None:
    """Each code a 403 or 409 lists is illustrated by an example of that very response."""
    missing = [
        (op["operationId"], status, code)
        for _, _, op in operations(spec)
        for status in ("403", "409")
        if status in op["responses"]
        for code in op["x-error-codes"][status]
        if code not in {shown for _, shown in _error_examples(spec, op["responses"][status])}
    ]
    assert not missing
