"""`UNSET` and `Response`, the shared types of every model and operation."""

from __future__ import annotations

import copy
import functools
import pickle
from http import HTTPStatus

import pytest

from cadenya.types import UNSET, Response, Unset


def _pickled(value: object, protocol: int) -> object:
    return pickle.loads(pickle.dumps(value, protocol))  # noqa: S301  (the test's own data)


COPIES = [
    pytest.param(copy.copy, id="copy"),
    pytest.param(copy.deepcopy, id="deepcopy"),
    *(
        pytest.param(functools.partial(_pickled, protocol=protocol), id=f"pickle-{protocol}")
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1)
    ),
]


@pytest.mark.parametrize("duplicate", COPIES)
def test_unset_stays_the_one_unset(duplicate: object) -> None:
    """A copied or unpickled UNSET is UNSET itself, so `is UNSET` and `isinstance(..., Unset)` both still hold."""
    assert duplicate(UNSET) is UNSET  # type: ignore[operator]
    assert duplicate([UNSET, {"field": UNSET}]) == [UNSET, {"field": UNSET}]  # type: ignore[operator]
    assert duplicate([UNSET])[0] is UNSET  # type: ignore[operator]


def test_making_another_unset_gives_unset() -> None:
    """Unset() cannot make a second sentinel that `is UNSET` would miss."""
    assert Unset() is UNSET
    assert not UNSET
    assert repr(UNSET) == "UNSET"


def test_a_response_prints_the_size_of_its_body_not_the_body() -> None:
    """A body may carry a token: repr() of a Response shows how long it is instead."""
    response: Response[None] = Response(
        status_code=HTTPStatus.CREATED, content=b'{"token": "cad_key_secret"}', headers={}, parsed=None
    )
    assert "cad_key_secret" not in repr(response)
    assert "content=<27 bytes>" in repr(response)
    assert response.content == b'{"token": "cad_key_secret"}'
