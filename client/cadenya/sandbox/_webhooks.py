"""Signed delivery of account events to each account's webhook URL, with retries, off the request path.

An event is written to the store's outbox in the transaction of the change it reports, stamped with the time
it happened, and stays there until it is delivered or given up; then it moves to the delivery log, which
`deliveries` lists and `redeliver` sends again. A slow receiver delays events, it never loses them, and a
restart resumes what was pending. Each account's events arrive in the order they happened, and each account
with events due has a delivery of its own in flight (up to `MAX_IN_FLIGHT` accounts at once), so a failing
receiver holds back its own account's later events only. Every attempt has a total deadline and reads at
most `MAX_ANSWER_BYTES` of the receiver's answer.

An account's URL is its own (`set_webhook_url`, the `webhook-url` command) or, when it has none, the
server's `--webhook-url`; an event of an account with neither is not recorded. The URL is read at each
attempt, so a change applies to the next one.
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
from typing import TYPE_CHECKING, Any

from cadenya import webhooks
from cadenya.lib._http import default_library
from cadenya.lib._plural import counted

if TYPE_CHECKING:
    import httpx

from . import _secrets
from ._store import Busy, Store, StoreClosed, now

logger = logging.getLogger("cadenya.sandbox.webhooks")

RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)
"""Seconds before each retry of a failed attempt; after the last one the event is given up."""

ATTEMPT_DEADLINE = 5.0
"""Seconds one attempt may take in all: connecting, sending, and the receiver's answer."""

MAX_ANSWER_BYTES = 64 * 1024
"""The most of a receiver's answer that is read; the connection is closed on the rest."""

MAX_IN_FLIGHT = 64
"""Accounts whose deliveries are in flight at once; each account has at most one."""

IDLE_POLL = 1.0
"""Seconds an idle sender waits before it looks at the outbox again, unless woken earlier (events recorded
by another process, such as `redeliver`, are seen within this time)."""


class UnknownAccount(LookupError):
    """No account has that id."""


class UnknownMessage(LookupError):
    """No event of the outbox or the delivery log has that id."""


@dataclass(frozen=True)
class Delivery:
    seq: int
    message_id: str
    account_id: str
    event_type: str
    payload: str
    secrets: tuple[str, ...]
    attempts: int
    url: str | None


@dataclass(frozen=True)
class DeliveryRecord:
    """One event as the delivery log shows it."""

    message_id: str
    event_type: str
    attempts: int
    last_status: str | None
    state: str
    """`pending` (in the outbox), `delivered`, or `failed` (given up after the last retry)."""


def webhook_url_of(db: sqlite3.Connection, account_id: str, default: str | None) -> str | None:
    row = db.execute("SELECT webhook_url FROM accounts WHERE id = ?", (account_id,)).fetchone()
    own: str | None = row["webhook_url"] if row is not None else None
    return own or default


def set_webhook_url(store: Store, account_id: str, url: str | None) -> None:
    """Send the account's events to `url` from its next attempt on; None: to the server's `--webhook-url`."""
    with store.transaction() as db:
        if db.execute("UPDATE accounts SET webhook_url = ? WHERE id = ?", (url, account_id)).rowcount == 0:
            raise UnknownAccount(account_id)


def deliveries(store: Store, account_id: str) -> list[DeliveryRecord]:
    """The account's events, oldest first: those delivered or given up, then those still pending."""
    with store.transaction(write=False) as db:
        if db.execute("SELECT 1 FROM accounts WHERE id = ?", (account_id,)).fetchone() is None:
            raise UnknownAccount(account_id)
        done = db.execute(
            "SELECT message_id, event_type, attempts, last_status, state FROM webhook_deliveries"
            " WHERE account_id = ? ORDER BY seq",
            (account_id,),
        ).fetchall()
        pending = db.execute(
            "SELECT message_id, event_type, attempts, last_status, 'pending' AS state FROM webhook_outbox"
            " WHERE account_id = ? ORDER BY seq",
            (account_id,),
        ).fetchall()
    return [DeliveryRecord(*row) for row in [*done, *pending]]


def redeliver(store: Store, message_id: str) -> None:
    """Queue the event again, with its id and payload, signed with its account's current secret."""
    with store.transaction() as db:
        row = db.execute(
            "SELECT account_id, event_type, payload FROM webhook_deliveries WHERE message_id = ?"
            " UNION ALL SELECT account_id, event_type, payload FROM webhook_outbox WHERE message_id = ?",
            (message_id, message_id),
        ).fetchone()
        if row is None:
            raise UnknownMessage(message_id)
        (sealed_secret,) = db.execute(
            "SELECT webhook_secret FROM accounts WHERE id = ?", (row["account_id"],)
        ).fetchone()
        secrets = (store.vault.open(sealed_secret),)
        db.execute(
            "INSERT INTO webhook_outbox (message_id, account_id, event_type, payload, secrets, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (message_id, row["account_id"], row["event_type"], row["payload"],
             store.vault.seal(json.dumps(secrets)), time.time()),
        )  # fmt: skip


class WebhookSender:
    """Delivers the events in `store`'s outbox from a background thread, started by the first event, until
    `close()`. `url` is where the events of an account without a URL of its own go (None: nowhere)."""

    def __init__(
        self,
        url: str | None,
        store: Store,
        *,
        max_in_flight: int = MAX_IN_FLIGHT,
        attempt_deadline: float = ATTEMPT_DEADLINE,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url, self.store, self.max_in_flight = url, store, max_in_flight
        self.attempt_deadline, self.retry_delays, self.transport = attempt_deadline, retry_delays, transport
        with store.transaction() as db:
            # Claims of a process that stopped mid-attempt: those attempts are made again.
            db.execute("UPDATE webhook_outbox SET claimed = 0 WHERE claimed = 1")
            pending = db.execute("SELECT 1 FROM webhook_outbox LIMIT 1").fetchone() is not None
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        if pending or url is not None:
            self._start()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None or self._closed:
                return
            started = threading.Event()
            self._thread = threading.Thread(target=self._deliver_until_closed, args=(started,), name="webhook-sender",
                                            daemon=True)  # fmt: skip
            self._thread.start()
            started.wait()

    def record(
        self, db: sqlite3.Connection, account_id: str, event_type: str, data: dict[str, Any], secrets: tuple[str, ...]
    ) -> bool:
        """Put an event in the outbox, in the caller's transaction, signed later with each of `secrets`: the
        account's signing secret when the event happened (and the one before it, for the event of a rotation).
        False, and nothing recorded, when the account's events go nowhere."""
        if webhook_url_of(db, account_id, self.url) is None:
            return False
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
        return True

    def wake(self) -> None:
        """Tell the sender that the outbox has new events (after the transaction that recorded them committed)."""
        self._start()
        self._call_in_loop(lambda: self._wake.set())

    def close(self) -> None:
        """Stop delivering; what is still in the outbox is delivered by the next sender on this store."""
        with self._start_lock:
            self._closed = True
        self._call_in_loop(lambda: self._stop.set())
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _call_in_loop(self, callback: Callable[[], None]) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(callback)

    def _deliver_until_closed(self, started: threading.Event) -> None:
        with asyncio.Runner() as runner:
            self._loop = runner.get_loop()
            self._wake, self._stop = asyncio.Event(), asyncio.Event()
            started.set()
            runner.run(self._serve())

    async def _serve(self) -> None:
        library = default_library()
        async with library.AsyncClient(timeout=self.attempt_deadline, transport=self.transport) as client:
            dispatcher = asyncio.create_task(self._dispatch(client))
            await self._stop.wait()
            dispatcher.cancel()
            await asyncio.gather(dispatcher, return_exceptions=True)

    async def _dispatch(self, client: httpx.AsyncClient) -> None:
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while True:
                # Cleared before looking, so an event recorded (or a delivery finished) meanwhile wakes it again.
                self._wake.clear()
                try:
                    delivery = await asyncio.to_thread(self._claim) if len(in_flight) < self.max_in_flight else None
                    if delivery is not None:
                        task = asyncio.create_task(self._deliver(client, delivery))
                        in_flight.add(task)
                        task.add_done_callback(in_flight.discard)
                        continue
                    await self._idle(await asyncio.to_thread(self._seconds_until_due))
                except (Busy, sqlite3.Error) as error:
                    logger.warning("webhook outbox unavailable: %s", error)
                    await asyncio.sleep(IDLE_POLL)
        except StoreClosed:
            return  # the store closed before this sender: what is left in the outbox waits for the next one
        finally:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def _deliver(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        outcome = await self._attempt(client, delivery)
        for _ in range(3):
            try:
                await asyncio.to_thread(self._settle, delivery, outcome)
                break
            except StoreClosed:
                return  # unsettled: the event stays claimed in the outbox, and the next sender delivers it again
            except (Busy, sqlite3.Error) as error:
                logger.warning("webhook outbox unavailable: %s", error)
                await asyncio.sleep(IDLE_POLL)
        self._wake.set()  # the account's next event may be due now

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
            url = webhook_url_of(db, row["account_id"], self.url)
        secrets = tuple(json.loads(self.store.vault.open(row["secrets"])))
        return Delivery(row["seq"], row["message_id"], row["account_id"], row["event_type"], row["payload"], secrets,
                        row["attempts"], url)  # fmt: skip

    def _seconds_until_due(self) -> float:
        with self.store.transaction(write=False) as db:
            (due,) = db.execute("SELECT MIN(next_attempt_at) FROM webhook_outbox WHERE claimed = 0").fetchone()
        return IDLE_POLL if due is None else min(IDLE_POLL, max(0.0, due - time.time()))

    def _settle(self, delivery: Delivery, outcome: str) -> None:
        """Log a delivered event, or schedule the next attempt of a failed one, or log it given up after the last."""
        attempts, delivered = delivery.attempts + 1, outcome.isdigit() and 200 <= int(outcome) < 300
        with self.store.transaction() as db:
            if delivered or attempts > len(self.retry_delays):
                db.execute("DELETE FROM webhook_outbox WHERE seq = ?", (delivery.seq,))
                db.execute(
                    "INSERT INTO webhook_deliveries (message_id, account_id, event_type, payload, attempts,"
                    " last_status, state, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (delivery.message_id, delivery.account_id, delivery.event_type, delivery.payload, attempts,
                     outcome, "delivered" if delivered else "failed", now()),
                )  # fmt: skip
            else:
                db.execute(
                    "UPDATE webhook_outbox SET attempts = ?, next_attempt_at = ?, claimed = 0, last_status = ?"
                    " WHERE seq = ?",
                    (attempts, time.time() + self.retry_delays[attempts - 1], outcome, delivery.seq),
                )
        if not delivered and attempts > len(self.retry_delays):
            logger.error(
                "webhook %s (%s) given up after %s",
                delivery.event_type, delivery.message_id, counted(attempts, "attempt"),
            )  # fmt: skip

    async def _attempt(self, client: httpx.AsyncClient, delivery: Delivery) -> str:
        """One attempt, within the total deadline: the receiver's status, or what failed."""
        attempt = delivery.attempts + 1
        if delivery.url is None:
            return "no webhook URL"
        headers = _signed_headers(delivery.payload, delivery.secrets, delivery.message_id)
        try:
            async with asyncio.timeout(self.attempt_deadline):
                status = await _post(client, delivery.url, delivery.payload, headers)
        except TimeoutError:
            logger.warning(
                "webhook %s attempt %d did not finish within %gs", delivery.event_type, attempt, self.attempt_deadline
            )
            return "timeout"
        except Exception as error:
            logger.warning("webhook %s attempt %d failed: %s", delivery.event_type, attempt, type(error).__name__)
            return type(error).__name__
        if not 200 <= status < 300:
            logger.warning("webhook %s attempt %d got HTTP %d", delivery.event_type, attempt, status)
        return str(status)


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
