"""The public surface of the package is pinned by a committed snapshot."""

from __future__ import annotations

import difflib
import inspect
from typing import Any

import pytest

from scripts.surface import CALL_STYLES, SNAPSHOT, surface
from tests.helpers import operation_module, operations
from tests.test_spec import OPERATIONS


def test_public_surface_matches_the_snapshot() -> None:
    """Operations, signatures, models and fields are as reviewed; `make surface` rewrites the snapshot."""
    committed = SNAPSHOT.read_text(encoding="utf-8")
    current = surface()
    diff = "".join(difflib.unified_diff(committed.splitlines(True), current.splitlines(True), "snapshot", "package"))
    assert current == committed, f"the public surface changed; review, then run `make surface`:\n{diff}"


@pytest.mark.parametrize("operation_id", [operation_id for _, operation_id, _, _ in OPERATIONS])
def test_operation_has_four_typed_call_styles(spec: dict[str, Any], operation_id: str) -> None:
    """Each operation offers sync, sync_detailed, asyncio and asyncio_detailed, all returning Error on failure."""
    operation = next(op for _, _, op in operations(spec) if op["operationId"] == operation_id)
    module = operation_module(operation)
    for style in CALL_STYLES:
        function = getattr(module, style)
        assert inspect.iscoroutinefunction(function) == style.startswith("asyncio")
        returned = str(inspect.signature(function).return_annotation)
        assert "cadenya.models.error.Error" in returned, (style, returned)
        assert returned.startswith("cadenya.types.Response[") == style.endswith("_detailed"), (style, returned)
        assert inspect.signature(function).parameters["client"].kind is inspect.Parameter.KEYWORD_ONLY
