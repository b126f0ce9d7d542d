"""Signed delivery of account events to `serve --webhook-url URL`, with retries, off the request path.

An event is written to the store's outbox in the transaction of the change it reports, stamped with the time
it happened, and stays there until it is delivered or given up: a slow receiver delays events, it never
loses them, and a restart resumes what was pending. A few workers deliver concurrently; each account's
events arrive in the order they happened. Every attempt has a total deadline and reads at most
`MAX_ANSWER_BYTES` of the receiver's answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from cadenya import webhooks

from . import _secrets
from ._store import Busy, Store, now

logger = logging.getLogger("cadenya.sandbox.webhooks")

RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)
"""Seconds before each retry of a failed attempt; after the last one the event is given up."""

ATTEMPT_DEADLINE = 5.0
"""Seconds one attempt may take in all: connecting, sending, and the receiver's answer."""

MAX_ANSWER_BYTES = 64 * 1024
"""The most of a receiver's answer that is read; the connection is closed on the rest."""

WORKERS = 4
"""Deliveries in flight at once, each to a different account."""

IDLE_POLL = 1.0
"""Seconds an idle worker waits before it looks at the outbox again, unless woken earlier."""


@dataclass(frozen=True)
class Delivery:
    seq: int
    message_id: str
    event_type: str
    payload: str
    secrets: tuple[str, ...]
    attempts: int


class WebhookSender:
    """Delivers the events in `store`'s outbox to `url` from a background thread, until `close()`."""

    def __init__(
        self,
        url: str,
        store: Store,
        *,
        workers: int = WORKERS,
        attempt_deadline: float = ATTEMPT_DEADLINE,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self.url, self.store, self.workers = url, store, workers
        self.attempt_deadline, self.retry_delays = attempt_deadline, retry_delays
        with store.transaction() as db:
            # Claims of a process that stopped mid-attempt: those attempts are made again.
            db.execute("UPDATE webhook_outbox SET claimed = 0 WHERE claimed = 1")
        self._runner = asyncio.Runner(loop_factory=asyncio.new_event_loop)
        self._loop = self._runner.get_loop()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._deliver_until_closed, name="webhook-sender", daemon=True)
        self._thread.start()

    def record(
        self, db: sqlite3.Connection, account_id: str, event_type: str, data: dict[str, Any], secrets: tuple[str, ...]
    ) -> None:
        """Put an event in the outbox, in the caller's transaction, signed later with each of `secrets`: the
        account's signing secret when the event happened (and the one before it, for the event of a rotation)."""
        payload = json.dumps({"type": event_type, "timestamp": now(), "data": data})
        db.execute(
            "INSERT INTO webhook_outbox (message_id, account_id, event_type, payload, secrets, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                _secrets.new_ulid("msg"),
                account_id,
                event_type,
                payload,
                self.store.vault.seal(json.dumps(secrets)),
                time.time(),
            ),
        )

    def wake(self) -> None:
        """Tell the workers that the outbox has new events (after the transaction that recorded them committed)."""
        self._call_in_loop(self._wake.set)

    def close(self) -> None:
        """Stop delivering; what is still in the outbox is delivered by the next sender on this store."""
        self._call_in_loop(self._stop.set)
        self._thread.join(timeout=10)

    def _call_in_loop(self, callback: Callable[[], None]) -> None:
        if self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self._loop.call_soon_threadsafe(callback)

    def _deliver_until_closed(self) -> None:
        with self._runner:
            self._runner.run(self._serve())

    async def _serve(self) -> None:
        async with httpx.AsyncClient(timeout=self.attempt_deadline) as client:
            workers = [asyncio.create_task(self._work(client)) for _ in range(self.workers)]
            await self._stop.wait()
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _work(self, client: httpx.AsyncClient) -> None:
        while True:
            # Cleared before looking, so an event recorded while this worker looks wakes it again.
            self._wake.clear()
            try:
                delivery = await asyncio.to_thread(self._claim)
                if delivery is None:
                    await self._idle(await asyncio.to_thread(self._seconds_until_due))
                    continue
                delivered = await self._attempt(client, delivery)
                await asyncio.to_thread(self._settle, delivery, delivered)
            except (Busy, sqlite3.Error) as error:
                logger.warning("webhook outbox unavailable: %s", error)
                await asyncio.sleep(IDLE_POLL)

    async def _idle(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    def _claim(self) -> Delivery | None:
        """The oldest due event that is the next of its account and not being delivered, now claimed; or None."""
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT * FROM webhook_outbox"
                " WHERE seq IN (SELECT MIN(seq) FROM webhook_outbox GROUP BY account_id)"
                " AND claimed = 0 AND next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT 1",
                (time.time(),),
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE webhook_outbox SET claimed = 1 WHERE seq = ?", (row["seq"],))
        secrets = tuple(json.loads(self.store.vault.open(row["secrets"])))
        return Delivery(row["seq"], row["message_id"], row["event_type"], row["payload"], secrets, row["attempts"])

    def _seconds_until_due(self) -> float:
        with self.store.transaction(write=False) as db:
            (due,) = db.execute("SELECT MIN(next_attempt_at) FROM webhook_outbox WHERE claimed = 0").fetchone()
        return IDLE_POLL if due is None else min(IDLE_POLL, max(0.0, due - time.time()))

    def _settle(self, delivery: Delivery, delivered: bool) -> None:
        """Remove a delivered event; schedule the next attempt of a failed one, or give it up after the last."""
        attempts = delivery.attempts + 1
        with self.store.transaction() as db:
            if delivered or attempts > len(self.retry_delays):
                db.execute("DELETE FROM webhook_outbox WHERE seq = ?", (delivery.seq,))
            else:
                db.execute(
                    "UPDATE webhook_outbox SET attempts = ?, next_attempt_at = ?, claimed = 0 WHERE seq = ?",
                    (attempts, time.time() + self.retry_delays[attempts - 1], delivery.seq),
                )
        if not delivered and attempts > len(self.retry_delays):
            logger.error(
                "webhook %s (%s) given up after %d attempts", delivery.event_type, delivery.message_id, attempts
            )

    async def _attempt(self, client: httpx.AsyncClient, delivery: Delivery) -> bool:
        """One attempt, within the total deadline: whether the receiver answered 2xx."""
        attempt = delivery.attempts + 1
        headers = _signed_headers(delivery.payload, delivery.secrets, delivery.message_id)
        try:
            async with asyncio.timeout(self.attempt_deadline):
                status = await _post(client, self.url, delivery.payload, headers)
        except TimeoutError:
            logger.warning(
                "webhook %s attempt %d did not finish within %gs", delivery.event_type, attempt, self.attempt_deadline
            )
            return False
        except httpx.HTTPError as error:
            logger.warning("webhook %s attempt %d failed: %s", delivery.event_type, attempt, type(error).__name__)
            return False
        if 200 <= status < 300:
            return True
        logger.warning("webhook %s attempt %d got HTTP %d", delivery.event_type, attempt, status)
        return False


async def _post(client: httpx.AsyncClient, url: str, payload: str, headers: dict[str, str]) -> int:
    """POST the event and read the answer until it ends or `MAX_ANSWER_BYTES` have arrived; its status."""
    async with client.stream("POST", url, content=payload, headers=headers) as response:
        received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received >= MAX_ANSWER_BYTES:
                break
        return response.status_code


def _signed_headers(payload: str, secrets: tuple[str, ...], message_id: str) -> dict[str, str]:
    """The Standard Webhooks headers, with one `v1,` signature per secret in `webhook-signature`."""
    timestamp = int(time.time())
    signed = [webhooks.sign(payload, secret, message_id=message_id, timestamp=timestamp) for secret in secrets]
    return {
        **signed[0],
        "webhook-signature": " ".join(headers["webhook-signature"] for headers in signed),
        "content-type": "application/json",
    }
