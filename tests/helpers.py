"""Small helpers shared by the tests: spec walking and operation lookup."""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import yaml

from cadenya import AuthenticatedClient


def _installed(distribution: str) -> bool:
    """Whether the distribution is installed (not merely importable: the httpx2 cells alias httpx)."""
    from importlib import metadata

    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


NEEDS_HTTPX = pytest.mark.skipif(
    not _installed("httpx"),
    reason="httpx is not installed (the httpx2-only cell): a program written for httpx cannot be checked there",
)
HTTPX2: Any = importlib.import_module("httpx2") if importlib.util.find_spec("httpx2") else None
"""httpx2, where it is installed: the matrix's cells with httpx alone skip its cases, its own cells run them."""
NEEDS_HTTPX2 = pytest.mark.skipif(
    HTTPX2 is None, reason="httpx2 is not installed (a cell with httpx alone): the httpx2 cells run this"
)

HTTP_METHODS = ("get", "put", "post", "patch", "delete")
BASE_URL = "https://api.test.cadenya.invalid"
TOKEN = "cad_test_token_0123456789"
ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "openapi.yaml"


@functools.cache
def load_spec() -> dict[str, Any]:
    """The parsed openapi.yaml, read once per test session."""
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (method, path, operation) of the spec, in spec order."""
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield method, path, item[method]


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def operation_module(operation: dict[str, Any]) -> ModuleType:
    """The generated module of a spec operation: tag api_keys + createApiKey is cadenya.api.api_keys.create_api_key."""
    return importlib.import_module(f"cadenya.api.{operation['tags'][0]}.{snake_case(operation['operationId'])}")


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local $ref, if `node` is one."""
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def client_for(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> AuthenticatedClient:
    """A client whose every request, sync or async, is answered by `handler`."""
    return AuthenticatedClient(
        base_url=BASE_URL, token=TOKEN, httpx_args={"transport": httpx.MockTransport(handler)}, **options
    )


def with_parsed_datetimes(value: Any) -> Any:
    """`Z` and `+00:00` are one instant; compare date-times as datetimes, not as text."""
    if isinstance(value, dict):
        return {key: with_parsed_datetimes(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_parsed_datetimes(item) for item in value]
    if isinstance(value, str) and len(value) >= 20 and value[4] == "-" and value[10] == "T":
        return datetime.fromisoformat(value)
    return value


def open_files() -> list[str]:
    """What this process's file descriptors are open on (Linux: /proc/self/fd); none known without /proc."""
    fds = Path("/proc/self/fd")
    names = []
    for fd in fds.iterdir() if fds.is_dir() else ():
        with contextlib.suppress(OSError):  # the descriptor of the listing itself, closed meanwhile
            names.append(os.readlink(fd))
    return names


def close_app(app: Any) -> None:
    """Close what a `create_app` app holds, as its lifespan does on shutdown: its webhook sender, then its store."""
    app.state.webhooks.close()
    app.state.store.close()


@contextmanager
def open_database(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection to a sandbox database that commits on success and is closed on the way out."""
    connection = sqlite3.connect(path)
    try:
        with connection:
            yield connection
    finally:
        connection.close()


def _same(answer: httpx.Response, request: httpx.Request) -> httpx.Response:
    return answer


def _media_examples(content: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    if "example" in content:
        yield "example", content["example"]
    for name, example in (content.get("examples") or {}).items():
        example = resolve(load_spec(), example)
        if "value" in example:
            yield name, example["value"]


def decoded_examples() -> list[tuple[str, Any]]:
    """Every example of the spec that a model decodes, decoded: (where it is, the model object).

    Answers are decoded by their operation, as a call decodes them (a `oneOf` answer included);
    request bodies, webhook payloads and schema examples by the model of their schema.
    """
    import cadenya.models

    spec, decoded = load_spec(), []
    for _, _, operation in operations(spec):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        for item in [(operation["operationId"], "request", body)] + [
            (operation["operationId"], status, resolve(spec, response).get("content", {}).get("application/json", {}))
            for status, response in operation["responses"].items()
            if status.isdigit()
        ]:
            where, status, content = item
            for name, example in _media_examples(content):
                if status == "request":
                    model = getattr(cadenya.models, content["schema"]["$ref"].rsplit("/", 1)[1])
                    decoded.append((f"{where}-request-{name}", model.from_dict(example)))
                else:
                    module = operation_module(operation)
                    answer = httpx.Response(int(status), json=example)
                    parsed = module._parse_response(
                        client=client_for(functools.partial(_same, answer)), response=answer
                    )
                    decoded.append((f"{where}-{status}-{name}", parsed))
    for event, item in spec.get("webhooks", {}).items():
        content = item["post"]["requestBody"]["content"]["application/json"]
        model = getattr(cadenya.models, content["schema"]["$ref"].rsplit("/", 1)[1])
        decoded.extend((f"{event}-{name}", model.from_dict(example)) for name, example in _media_examples(content))
    for name, schema in spec["components"]["schemas"].items():
        if "example" in schema and isinstance(getattr(cadenya.models, name, None), type):
            decoded.append((f"{name}-example", getattr(cadenya.models, name).from_dict(schema["example"])))
    return decoded


def one_of_each_model() -> list[tuple[str, Any]]:
    """For every model class, an object of it decoded from the spec's examples: (an id naming both, the object)."""
    import attrs

    import cadenya.models

    found: dict[str, tuple[str, Any]] = {}
    for where, decoded in decoded_examples():
        for inner in model_objects(decoded):
            found.setdefault(type(inner).__name__, (where, inner))
    classes = [name for name in cadenya.models.__all__ if attrs.has(getattr(cadenya.models, name))]
    assert sorted(found) == sorted(classes), "a model class no example of the spec decodes to"
    return [(f"{name}-from-{found[name][0]}", found[name][1]) for name in sorted(classes)]


def model_objects(value: Any) -> Iterator[Any]:
    """`value` and every model object inside it (fields, lists, additional properties), depth first."""
    import attrs

    if attrs.has(type(value)):
        yield value
        for field in attrs.fields(type(value)):
            yield from model_objects(getattr(value, field.name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from model_objects(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from model_objects(item)
