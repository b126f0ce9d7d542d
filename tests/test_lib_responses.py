"""`cadenya.lib._responses.ResponseTable`: how an operation module reads each status its spec documents."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from cadenya.errors import UnexpectedStatus
from cadenya.lib._responses import ResponseTable, as_is, status_range


@dataclass
class Policy:
    raise_on_unexpected_status: bool = False


def _wrap(data: object) -> tuple[str, object]:
    return ("ok", data)


def _error(data: object) -> tuple[str, object]:
    return ("error", data)


TABLE: ResponseTable[tuple[str, object] | None] = ResponseTable(
    (_wrap, "200"), (None, "204"), (_error, "404 4XX"), (as_is, "5XX", "text")
)


@pytest.mark.parametrize(("pattern", "expected"), [
    pytest.param("404", (404, 404), id="code"),
    pytest.param("5XX", (500, 599), id="range"),
])  # fmt: skip
def test_a_spec_pattern_is_an_inclusive_range(pattern: str, expected: tuple[int, int]) -> None:
    """`404` is one status, `5XX` the hundred of its first digit."""
    assert status_range(pattern) == expected


@pytest.mark.parametrize(("status", "body", "expected"), [
    pytest.param(200, b'{"a": 1}', ("ok", {"a": 1}), id="json body through its reader"),
    pytest.param(204, b"", None, id="no content"),
    pytest.param(404, b"[]", ("error", []), id="code"),
    pytest.param(418, b"[]", ("error", []), id="range"),
    pytest.param(503, b"down", "down", id="text source"),
])  # fmt: skip
def test_each_status_is_read_by_its_row(status: int, body: bytes, expected: object) -> None:
    """A status goes to the row naming it (a code before a range); the row's source feeds its reader."""
    assert TABLE.parse(client=Policy(), response=httpx.Response(status, content=body)) == expected


def test_an_undocumented_status_is_none_or_raises_by_the_clients_policy() -> None:
    """A status no row names is None, or UnexpectedStatus when the client raises on it."""
    response = httpx.Response(302, content=b"moved")
    assert TABLE.parse(client=Policy(), response=response) is None
    with pytest.raises(UnexpectedStatus):
        TABLE.parse(client=Policy(raise_on_unexpected_status=True), response=response)


def test_default_reads_every_other_status_and_documents_them_all() -> None:
    """`default` catches what no code or range names, and makes every status documented."""
    table: ResponseTable[tuple[str, object]] = ResponseTable((_wrap, "200"), (_error, "default"))
    assert table.parse(client=Policy(True), response=httpx.Response(302, json={})) == ("error", {})
    assert table.documented == ((100, 599),)


def test_the_table_states_its_documented_and_bodiless_statuses() -> None:
    """`documented` is every code and range, sorted; `no_content` the 204 read without a body."""
    assert TABLE.documented == ((200, 200), (204, 204), (400, 499), (404, 404), (500, 599))
    assert TABLE.no_content == (204,)
