"""Small helpers shared by the tests: spec walking and operation lookup."""

from __future__ import annotations

import functools
import importlib
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import yaml

from cadenya import AuthenticatedClient

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


@contextmanager
def open_database(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection to a sandbox database that commits on success and is closed on the way out."""
    connection = sqlite3.connect(path)
    try:
        with connection:
            yield connection
    finally:
        connection.close()
