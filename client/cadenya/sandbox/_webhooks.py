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
        self._queue: queue.Queue[tuple[str, dict[str, Any], str] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)
        self._thread.start()

    def enqueue(self, event_type: str, data: dict[str, Any], secret: str) -> None:
        """Queue an event, signed with `secret`: the account's signing secret when the event happened."""
        self._queue.put((event_type, data, secret))

    def _run(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            while (item := self._queue.get()) is not None:
                event_type, data, secret = item
                message_id = _secrets.new_ulid("msg")
                payload = json.dumps({"type": event_type, "timestamp": now(), "data": data})
                for attempt, delay in enumerate((0.0, *RETRY_DELAYS)):
                    time.sleep(delay)
                    headers = {
                        **webhooks.sign(payload, secret, message_id=message_id),
                        "content-type": "application/json",
                    }
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
