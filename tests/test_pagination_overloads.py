"""`paginate` and `apaginate` (cadenya.lib._pagination) carry one overload per list operation of openapi.yaml,
written by hand: this holds them to the spec, so a list added, renamed or removed fails here until they follow."""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from cadenya.lib import _pagination
from tests.helpers import load_spec, operation_module, operations, resolve, snake_case

OVERLOAD = re.compile(r"Callable\[P, (?:Awaitable\[)?Response\[(\w+) \| Error\]\]?\]")
LIST = re.compile(r"(?:builtins\.)?list\[(\w+)\]")
ITERATOR = re.compile(r"(?:Async)?Iterator\[(\w+)\]")


def _is_list(spec: dict[str, Any], operation: dict[str, Any]) -> bool:
    """A list operation: a page token query parameter, and a success body with `items` and the next token
    (camelCase or snake_case, as the spec spells each API)."""
    parameters = [resolve(spec, parameter) for parameter in operation.get("parameters", [])]
    if not any(snake_case(p["name"]) == "page_token" and p["in"] == "query" for p in parameters):
        return False
    success = next(resolve(spec, r) for status, r in operation["responses"].items() if str(status).startswith("2"))
    schema = resolve(spec, success["content"]["application/json"]["schema"])
    properties = {snake_case(name): value for name, value in schema.get("properties", {}).items()}
    return "next_page_token" in properties and resolve(spec, properties.get("items", {})).get("type") == "array"


def _spec_lists() -> set[tuple[str, str]]:
    """(list response model, item model) of every list operation, as the generated package names them."""
    spec, found = load_spec(), set()
    for _, _, operation in operations(spec):
        if not _is_list(spec, operation):
            continue
        answer = typing.get_type_hints(operation_module(operation).sync_detailed)["return"]
        (page_model,) = (arg for arg in typing.get_args(typing.get_args(answer)[0]) if arg.__name__ != "Error")
        items = attrs.fields_dict(page_model)["items"].type  # list[Item], or its text
        match = LIST.fullmatch(items) if isinstance(items, str) else None
        item = match[1] if match else typing.get_args(items)[0].__name__
        found.add((page_model.__name__, item))
    return found


def _overloads(function: Callable[..., Any]) -> set[tuple[str, str]]:
    found = set()
    for variant in typing.get_overloads(function):
        signature = inspect.signature(variant)
        page = OVERLOAD.fullmatch(str(signature.parameters["operation"].annotation))
        item = ITERATOR.fullmatch(str(signature.return_annotation))
        assert page and item, f"an overload of {function.__name__} that is not (list operation) -> items: {signature}"
        found.add((page[1], item[1]))
    return found


def test_the_spec_has_list_operations() -> None:
    """The check below compares something: the spec's list operations are found."""
    assert len(_spec_lists()) >= 2


@pytest.mark.parametrize("function", [_pagination.paginate, _pagination.apaginate], ids=lambda f: f.__name__)
def test_one_overload_per_list_operation_of_the_spec(function: Callable[..., Any]) -> None:
    """Each list response of the spec has its overload typed with its item model, and there are no others."""
    assert _overloads(function) == _spec_lists()
