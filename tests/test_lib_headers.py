"""retry_after_seconds: the wait an answer's headers ask for (client/cadenya/lib/_headers.py)."""

from __future__ import annotations

import email.utils
import math
import time

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cadenya.api.api_keys import get_api_key, revoke_api_key
from cadenya.lib._headers import attach_request_id, retry_after_seconds
from cadenya.models import APIKey, APIKeySpec
from tests.helpers import client_for

KEY = {
    "metadata": {"id": "apikey_1", "accountId": "acct_1", "name": "n", "profileId": "prof_1"},
    "spec": {"system": False},
    "info": {"workspacesPreview": [], "workspacesTotal": 0},
}


def test_retry_after_in_seconds_is_read() -> None:
    """`Retry-After: 3` is a wait of 3.0 seconds."""
    assert retry_after_seconds(httpx.Headers({"Retry-After": "3"})) == 3.0


def test_a_fractional_retry_after_is_kept() -> None:
    """`Retry-After: 1.5` is 1.5 seconds, not rounded."""
    assert retry_after_seconds(httpx.Headers({"Retry-After": "1.5"})) == 1.5


def test_retry_after_ms_wins_over_retry_after() -> None:
    """With both headers, `retry-after-ms` (finer) is the one read."""
    assert retry_after_seconds(httpx.Headers({"Retry-After": "3", "retry-after-ms": "1500"})) == 1.5


def test_an_unusable_retry_after_ms_falls_back_to_retry_after() -> None:
    """A `retry-after-ms` that is not a positive number leaves `Retry-After` to decide."""
    assert retry_after_seconds(httpx.Headers({"Retry-After": "2", "retry-after-ms": "soon"})) == 2.0


def test_an_http_date_is_the_time_left_until_it() -> None:
    """`Retry-After` as an HTTP-date 30 s ahead is a wait of about 30 seconds."""
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    seconds = retry_after_seconds(httpx.Headers({"Retry-After": when}))
    assert seconds is not None
    assert 28 <= seconds <= 30


def test_an_http_date_in_the_past_is_no_wait() -> None:
    """A date that has already passed asks for no wait: None."""
    when = email.utils.formatdate(time.time() - 30, usegmt=True)
    assert retry_after_seconds(httpx.Headers({"Retry-After": when})) is None


def test_no_header_is_no_wait() -> None:
    """Without either header the answer asks for nothing."""
    assert retry_after_seconds(httpx.Headers({"X-Request-Id": "req_1"})) is None


@pytest.mark.parametrize("value", ["soon", "", "0", "-5", "nan", "inf", "-inf", "1e400", "Mon, 99 Foo 2024"])
def test_garbage_zero_negative_and_non_finite_waits_are_none(value: str) -> None:
    """Only a positive, finite wait counts; anything else is None."""
    assert retry_after_seconds(httpx.Headers({"Retry-After": value, "retry-after-ms": value})) is None


@given(retry_after=st.none() | st.text(), retry_after_ms=st.none() | st.text())
@settings(max_examples=400, derandomize=True, deadline=None)
def test_any_header_text_gives_none_or_a_positive_finite_wait(
    retry_after: str | None, retry_after_ms: str | None
) -> None:
    """Whatever text the headers hold, the parser never raises and never returns a wait that is not usable."""
    headers = {
        name: value
        for name, value in (("retry-after", retry_after), ("retry-after-ms", retry_after_ms))
        if value is not None
    }
    seconds = retry_after_seconds(headers)
    assert seconds is None or (math.isfinite(seconds) and seconds > 0)


def test_the_request_id_header_lands_on_the_model() -> None:
    """attach_request_id sets _request_id from the X-Request-Id header, whatever its case."""
    spec = APIKeySpec(system=False)
    attach_request_id(spec, httpx.Headers({"X-REQUEST-ID": "req_1"}))
    assert spec._request_id == "req_1"


def test_an_answer_without_the_header_leaves_none() -> None:
    """A call whose answer carries no X-Request-Id returns a model with _request_id None."""
    result = get_api_key.sync("apikey_1", client=client_for(lambda request: httpx.Response(200, json=KEY)))
    assert isinstance(result, APIKey)
    assert result._request_id is None


def test_a_call_answered_without_a_body_is_unaffected() -> None:
    """A 204 (parsed as None) with a request id still returns None."""
    answer = httpx.Response(204, headers={"X-Request-Id": "req_1"})
    assert revoke_api_key.sync("apikey_1", client=client_for(lambda request: answer)) is None
