"""Signed delivery of account events to `serve --webhook-url URL`, with retries, off the request path."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from typing import Any

import httpx

from cadenya import webhooks

from . import _secrets
from ._store import now

logger = logging.getLogger("cadenya.sandbox.webhooks")

RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)


class WebhookSender:
    """One background thread delivering events in order; each is retried on failure, then given up."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._queue: queue.Queue[tuple[str, dict[str, Any], tuple[str, ...]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)
        self._thread.start()

    def enqueue(self, event_type: str, data: dict[str, Any], secrets: tuple[str, ...]) -> None:
        """Queue an event, signed with each of `secrets`: the account's signing secret when the event happened
        (and the one before it, for the event of a rotation)."""
        self._queue.put((event_type, data, secrets))

    def _run(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            while (item := self._queue.get()) is not None:
                event_type, data, secrets = item
                message_id = _secrets.new_ulid("msg")
                payload = json.dumps({"type": event_type, "timestamp": now(), "data": data})
                for attempt, delay in enumerate((0.0, *RETRY_DELAYS)):
                    time.sleep(delay)
                    headers = _signed_headers(payload, secrets, message_id)
                    try:
                        status = client.post(self.url, content=payload, headers=headers).status_code
                    except httpx.HTTPError as error:
                        logger.warning(
                            "webhook %s attempt %d failed: %s", event_type, attempt + 1, type(error).__name__
                        )
                        continue
                    if 200 <= status < 300:
                        break
                    logger.warning("webhook %s attempt %d got HTTP %d", event_type, attempt + 1, status)
                else:
                    logger.error("webhook %s (%s) given up after %d attempts", event_type, message_id, attempt + 1)


def _signed_headers(payload: str, secrets: tuple[str, ...], message_id: str) -> dict[str, str]:
    """The Standard Webhooks headers, with one `v1,` signature per secret in `webhook-signature`."""
    timestamp = int(time.time())
    signed = [webhooks.sign(payload, secret, message_id=message_id, timestamp=timestamp) for secret in secrets]
    return {
        **signed[0],
        "webhook-signature": " ".join(headers["webhook-signature"] for headers in signed),
        "content-type": "application/json",
    }
