"""Messages that carry a count say "1 retry" and "2 retries": the log lines of a call, its errors, the sandbox's."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft202012Validator

import cadenya
from cadenya.api.api_keys import get_api_key
from cadenya.lib._plural import counted
from cadenya.sandbox import Store
from cadenya.sandbox._spec import describe
from cadenya.sandbox._webhooks import WebhookSender
from tests.helpers import client_for, load_spec

KEY_ID = "apikey_01JD7Z3M5W8Q2R4T6Y8U0I2O4P"
KEY = load_spec()["paths"]["/v1/api-keys/{apiKeyId}"]["get"]["responses"]["200"]["content"]["application/json"][
    "example"
]
RETRIES = [pytest.param(1, "1 retry", id="one"), pytest.param(2, "2 retries", id="two")]


@pytest.mark.parametrize(
    ("count", "singular", "plural", "said"),
    [
        pytest.param(0, "retry", "retries", "0 retries", id="zero"),
        pytest.param(1, "retry", "retries", "1 retry", id="one"),
        pytest.param(2, "retry", "retries", "2 retries", id="two"),
        pytest.param(1.0, "second", None, "1 second", id="one-float"),
        pytest.param(1.5, "second", None, "1.5 seconds", id="fraction"),
    ],
)
def test_a_count_takes_the_noun_in_its_number(count: float, singular: str, plural: str | None, said: str) -> None:
    """Exactly one takes the singular; every other count, zero and fractions included, the plural."""
    assert counted(count, singular, plural) == said


def _unavailable_then_ok(failures: int) -> Callable[[httpx.Request], httpx.Response]:
    """A handler that answers 503 `failures` times (retry at once), then 200."""
    answers = [httpx.Response(503, headers={"retry-after-ms": "1"}) for _ in range(failures)]
    answers.append(httpx.Response(200, json=KEY, headers={"X-Request-Id": "req_ok"}))
    return lambda request: answers.pop(0)


@pytest.mark.parametrize(("retries", "said"), RETRIES)
def test_the_log_line_of_an_answered_call_counts_its_retries(
    retries: int, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The INFO line of a call answered after retries ends with "1 retry" or "2 retries"."""
    with caplog.at_level(logging.INFO, logger="cadenya"):
        get_api_key.sync_detailed(KEY_ID, client=client_for(_unavailable_then_ok(retries)))
    (line,) = [record.getMessage() for record in caplog.records if record.levelno == logging.INFO]
    assert line.endswith(f"request id req_ok, {said}"), line


@pytest.mark.parametrize(("retries", "said"), RETRIES)
def test_a_call_that_never_connects_counts_its_retries_in_the_log_and_the_error(
    retries: int, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A connection refused on every attempt: the INFO line and the APIConnectionError both say "after N retr..."."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = client_for(refuse, max_retries=retries).with_options(deadline=30)
    with caplog.at_level(logging.INFO, logger="cadenya"), pytest.raises(cadenya.APIConnectionError) as raised:
        get_api_key.sync(KEY_ID, client=client)
    assert str(raised.value).endswith(f"failed (ConnectError) after {said}")
    (line,) = [record.getMessage() for record in caplog.records if record.levelno == logging.INFO]
    assert line.endswith(f", {said}: ConnectError"), line


@pytest.mark.parametrize(
    ("pages", "said"), [pytest.param(1, "1 page,", id="one"), pytest.param(2, "2 pages,", id="two")]
)
def test_the_page_limit_error_counts_its_pages(pages: int, said: str) -> None:
    """PageLimitError(1) stopped after "1 page", PageLimitError(2) after "2 pages"."""
    assert f"stopped after {said} the client's max_pages" in str(cadenya.PageLimitError(pages))


@pytest.mark.parametrize(
    ("schema", "said"),
    [
        pytest.param({"minLength": 1}, "is shorter than 1 character", id="one-character"),
        pytest.param({"minLength": 2}, "is shorter than 2 characters", id="two-characters"),
        pytest.param({"type": "array", "maxItems": 1}, "has more than 1 item", id="one-item"),
        pytest.param({"maximum": 1}, "is more than 1", id="no-noun"),
    ],
)
def test_the_sandbox_says_a_limit_in_the_number_it_takes(schema: dict[str, object], said: str) -> None:
    """The sandbox's 422 message for a length or size limit of 1 says "1 character", not "1 characters"."""
    value: object = {"minLength": "", "maxItems": [1, 2], "maximum": 2}[next(iter(schema.keys() - {"type"}))]
    (error,) = Draft202012Validator(schema).iter_errors(value)
    assert describe(error) == said


@pytest.mark.parametrize(
    ("retry_delays", "said"),
    [pytest.param((), "1 attempt", id="one"), pytest.param((0.0,), "2 attempts", id="two")],
)
def test_a_webhook_given_up_counts_its_attempts(
    tmp_path: Path, retry_delays: tuple[float, ...], said: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The sandbox's error line for an event it gives up on says "after 1 attempt" or "after 2 attempts"."""

    async def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500)

    with caplog.at_level(logging.ERROR, logger="cadenya.sandbox.webhooks"), Store(tmp_path / "hooks.db") as store:
        sender = WebhookSender(
            "http://receiver.invalid/hooks", store, retry_delays=retry_delays, transport=httpx.MockTransport(refuse)
        )
        try:
            with store.transaction() as db:
                sender.record(db, "acct_refused", "api_key.created", {"accountId": "acct_refused"}, ("wh_c2VjcmV0",))
            sender.wake()
            deadline = time.monotonic() + 10
            while not caplog.records and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            sender.close()
    (line,) = [record.getMessage() for record in caplog.records]
    assert line.endswith(f"given up after {said}"), line
