"""The sandbox's webhook sender against receivers made here on 127.0.0.1: slow, trickling, huge or dead ones."""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from cadenya.sandbox import SandboxServer, Store, _webhooks
from cadenya.sandbox._webhooks import MAX_ANSWER_BYTES, WebhookSender
from tests.helpers import open_database

Answer = Callable[[socket.socket, dict[str, Any]], None]
HUGE = 400 * 1024 * 1024


def no_content(connection: socket.socket, event: dict[str, Any]) -> None:
    connection.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")


class Receiver:
    """A webhook endpoint whose answer to each delivery `answer` writes on the raw connection; records arrivals."""

    def __init__(self, answer: Answer) -> None:
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                event = _read_request(self.request)
                with receiver.arrived:
                    receiver.arrivals.append((time.monotonic(), event))
                    receiver.arrived.notify_all()
                with contextlib.suppress(OSError):
                    answer(self.request, event)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, account_id: str, timeout: float = 10.0) -> float:
        """When the first delivery of the account's events arrived (monotonic time)."""
        with self.arrived:
            self.arrived.wait_for(lambda: self._of(account_id), timeout=timeout)
            found = self._of(account_id)
        assert found, f"no event of {account_id} arrived within {timeout}s"
        return found[0]

    def _of(self, account_id: str) -> list[float]:
        return [moment for moment, event in self.arrivals if event["data"]["accountId"] == account_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _read_request(connection: socket.socket) -> dict[str, Any]:
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += connection.recv(65536)
    event: dict[str, Any] = json.loads(body)
    return event


@pytest.fixture
def receivers() -> Iterator[Callable[[Answer], Receiver]]:
    made: list[Receiver] = []

    def make(answer: Answer) -> Receiver:
        made.append(Receiver(answer))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "hooks.db") as opened:
        yield opened


@pytest.fixture
def senders(store: Store) -> Iterator[Callable[..., WebhookSender]]:
    made: list[WebhookSender] = []

    def make(url: str, **options: Any) -> WebhookSender:
        made.append(WebhookSender(url, store, **options))
        return made[-1]

    yield make
    for sender in made:
        sender.close()


def record(sender: WebhookSender, account_id: str, event_type: str = "api_key.created") -> None:
    with sender.store.transaction() as db:
        sender.record(db, account_id, event_type, {"accountId": account_id}, ("wh_c2VjcmV0",))
    sender.wake()


def wait_until_outbox_empty(store: Store, timeout: float) -> float:
    """Seconds until every event in the outbox was delivered or given up; fails after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with store.transaction(write=False) as db:
            if db.execute("SELECT COUNT(*) FROM webhook_outbox").fetchone()[0] == 0:
                return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"the outbox still held events after {timeout}s")


def test_a_trickling_receiver_cannot_hold_an_attempt_past_its_deadline(
    receivers: Callable[[Answer], Receiver], senders: Callable[..., WebhookSender], store: Store
) -> None:
    """A receiver that sends one byte per 100 ms: the attempt ends at its 1 s deadline, not when the receiver stops."""
    ended = threading.Event()

    def trickle(connection: socket.socket, event: dict[str, Any]) -> None:
        try:
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(100):  # ten seconds at most
                connection.sendall(b"x")
                time.sleep(0.1)
        finally:
            ended.set()

    sender = senders(receivers(trickle).url, attempt_deadline=1.0, retry_delays=())
    record(sender, "acct_trickled")
    assert wait_until_outbox_empty(store, timeout=5) < 2.5
    assert ended.wait(timeout=2)


def test_at_most_64_kib_of_a_huge_answer_is_read(
    receivers: Callable[[Answer], Receiver], senders: Callable[..., WebhookSender], store: Store
) -> None:
    """A receiver answering 400 MiB: the attempt ends promptly and the receiver gets little of it out."""
    sent = 0
    done = threading.Event()

    def huge(connection: socket.socket, event: dict[str, Any]) -> None:
        nonlocal sent
        chunk = b"x" * 65536
        try:
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % HUGE)
            while sent < HUGE:
                connection.sendall(chunk)
                sent += len(chunk)
        finally:
            done.set()

    sender = senders(receivers(huge).url, retry_delays=())
    record(sender, "acct_huge")
    assert wait_until_outbox_empty(store, timeout=10) < 2
    assert done.wait(timeout=5)
    # What the receiver got out sits in socket buffers; the sender itself read at most 64 KiB of it.
    assert sent < 32 * 1024 * 1024 and MAX_ANSWER_BYTES == 64 * 1024


def test_a_hanging_receiver_does_not_delay_another_accounts_event(
    receivers: Callable[[Answer], Receiver], senders: Callable[..., WebhookSender]
) -> None:
    """One account's delivery hangs for 5 s; another account's event, recorded after it, arrives within 1 s."""
    release = threading.Event()

    def hang_for_the_first(connection: socket.socket, event: dict[str, Any]) -> None:
        if event["data"]["accountId"] == "acct_hanging":
            release.wait(timeout=5)
        no_content(connection, event)

    receiver = receivers(hang_for_the_first)
    sender = senders(receiver.url, attempt_deadline=10.0)
    record(sender, "acct_hanging")
    hung_at = receiver.wait_for("acct_hanging")
    record(sender, "acct_waiting")
    try:
        assert receiver.wait_for("acct_waiting", timeout=3) - hung_at < 1.0
    finally:
        release.set()


def test_an_event_is_stamped_when_it_happened_not_when_it_was_sent(
    receivers: Callable[[Answer], Receiver], store: Store, senders: Callable[..., WebhookSender]
) -> None:
    """An event recorded a second before any sender runs carries the time it was recorded."""
    receiver = receivers(no_content)
    first = senders(receiver.url)
    first.close()
    record(first, "acct_stamped")
    recorded_at = time.time()
    time.sleep(1.0)
    senders(receiver.url)
    receiver.wait_for("acct_stamped")
    (event,) = [event for _, event in receiver.arrivals]
    stamped = datetime.fromisoformat(event["timestamp"]).timestamp()
    assert recorded_at - 1.0 < stamped <= recorded_at


def test_many_events_while_the_receiver_is_slow_are_all_delivered_once(
    receivers: Callable[[Answer], Receiver], senders: Callable[..., WebhookSender], store: Store
) -> None:
    """200 events recorded faster than a 20 ms receiver takes them: every one arrives, exactly once."""

    def slow(connection: socket.socket, event: dict[str, Any]) -> None:
        time.sleep(0.02)
        no_content(connection, event)

    receiver = receivers(slow)
    sender = senders(receiver.url)
    for index in range(200):
        record(sender, f"acct_{index % 10}", event_type=f"event.{index}")
    wait_until_outbox_empty(store, timeout=30)
    assert sorted(event["type"] for _, event in receiver.arrivals) == sorted(f"event.{index}" for index in range(200))


def test_an_event_not_yet_delivered_survives_kill_9(tmp_path: Path, receivers: Callable[[Answer], Receiver]) -> None:
    """The receiver is down when the event happens and the server is killed: after a restart, the event arrives."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{unused.getsockname()[1]}/hooks"
    db = tmp_path / "outbox.db"
    server = SandboxServer(db, extra_args=("--webhook-url", dead_url)).start()
    account = server.new_account()
    headers = {"Authorization": f"Bearer {account['apiKey']}"}
    assert httpx.post(f"{server.base_url}/v1/api-keys", json={"name": "k"}, headers=headers).status_code == 201
    server.kill()
    with open_database(db) as connection:
        assert connection.execute("SELECT COUNT(*) FROM webhook_outbox").fetchone()[0] == 1
    receiver = receivers(no_content)
    restarted = SandboxServer(db, extra_args=("--webhook-url", receiver.url)).start()
    try:
        receiver.wait_for(account["accountId"], timeout=10)
    finally:
        restarted.stop()
    assert [event["type"] for _, event in receiver.arrivals] == ["api_key.created"]


def test_six_hanging_receivers_do_not_delay_a_seventh_accounts_event(
    receivers: Callable[[Answer], Receiver], senders: Callable[..., WebhookSender]
) -> None:
    """Every account with events due has its own delivery in flight: six hanging accounts hold no seventh."""
    release = threading.Event()

    def hang_unless_prompt(connection: socket.socket, event: dict[str, Any]) -> None:
        if event["data"]["accountId"] != "acct_prompt":
            release.wait(timeout=8)
        no_content(connection, event)

    receiver = receivers(hang_unless_prompt)
    sender = senders(receiver.url, attempt_deadline=10.0)
    for index in range(6):
        record(sender, f"acct_hanging_{index}")
    for index in range(6):
        receiver.wait_for(f"acct_hanging_{index}")
    recorded_at = time.monotonic()
    record(sender, "acct_prompt")
    try:
        assert receiver.wait_for("acct_prompt", timeout=5) - recorded_at < 1.5
    finally:
        release.set()


def _create_key(server: SandboxServer, account: dict[str, Any], name: str = "k") -> None:
    headers = {"Authorization": f"Bearer {account['apiKey']}"}
    assert httpx.post(f"{server.base_url}/v1/api-keys", json={"name": name}, headers=headers).status_code == 201


def _wait_for_state(db: Path, account_id: str, states: list[str], timeout: float = 10.0) -> list[Any]:
    started = time.monotonic()
    while True:
        with Store(db) as store:
            found = _webhooks.deliveries(store, account_id)
        if [record.state for record in found] == states or time.monotonic() - started > timeout:
            return found
        time.sleep(0.05)


def test_an_accounts_webhook_url_can_be_set_and_changed_while_the_sandbox_runs(
    tmp_path: Path, receivers: Callable[[Answer], Receiver]
) -> None:
    """A server started without --webhook-url sends an account's events wherever the account's URL says, now."""
    first, second = receivers(no_content), receivers(no_content)
    server = SandboxServer(tmp_path / "urls.db").start()
    try:
        account = server.new_account()
        _create_key(server, account, "before any URL")
        with Store(server.db) as store:
            _webhooks.set_webhook_url(store, account["accountId"], first.url)
        _create_key(server, account, "to the first")
        first.wait_for(account["accountId"])
        with Store(server.db) as store:
            _webhooks.set_webhook_url(store, account["accountId"], second.url)
        _create_key(server, account, "to the second")
        second.wait_for(account["accountId"])
    finally:
        server.stop()
    assert len(first.arrivals) == 1 and len(second.arrivals) == 1
    records = _wait_for_state(server.db, account["accountId"], ["delivered", "delivered"])
    assert [(record.event_type, record.attempts, record.last_status) for record in records] == [
        ("api_key.created", 1, "204"),
        ("api_key.created", 1, "204"),
    ]


def test_the_delivery_log_shows_failures_and_a_redelivery_arrives_with_the_same_id(
    tmp_path: Path, receivers: Callable[[Answer], Receiver]
) -> None:
    """An event its receiver refuses is logged failed with its attempts and status; redelivered, it arrives
    with the same webhook-id and payload, and the log shows it delivered."""
    refusing = threading.Event()
    refusing.set()

    def refuse_while_set(connection: socket.socket, event: dict[str, Any]) -> None:
        if refusing.is_set():
            connection.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
        else:
            no_content(connection, event)

    receiver = receivers(refuse_while_set)
    db = tmp_path / "redeliver.db"
    with Store(db) as store:
        account = store.create_account("Redeliver")
        _webhooks.set_webhook_url(store, account["accountId"], receiver.url)
    server = SandboxServer(db).start()
    try:
        _create_key(server, account)
        (failed,) = _wait_for_state(db, account["accountId"], ["failed"], timeout=20)
        assert (failed.state, failed.attempts, failed.last_status) == ("failed", 6, "500")
        refusing.clear()
        with Store(db) as store:
            _webhooks.redeliver(store, failed.message_id)
        records = _wait_for_state(db, account["accountId"], ["failed", "delivered"])
    finally:
        server.stop()
    assert [(record.message_id, record.state) for record in records] == [
        (failed.message_id, "failed"),
        (failed.message_id, "delivered"),
    ]
    assert len({json.dumps(event, sort_keys=True) for _, event in receiver.arrivals}) == 1


def test_an_account_without_a_webhook_url_records_no_event(tmp_path: Path) -> None:
    """With neither an account URL nor --webhook-url, nothing piles up in the outbox."""
    server = SandboxServer(tmp_path / "nowhere.db").start()
    try:
        account = server.new_account()
        _create_key(server, account)
    finally:
        server.stop()
    with open_database(server.db) as connection:
        assert connection.execute("SELECT COUNT(*) FROM webhook_outbox").fetchone()[0] == 0


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda store: _webhooks.set_webhook_url(store, "acct_missing", "http://127.0.0.1:1/"), id="url"),
        pytest.param(lambda store: _webhooks.deliveries(store, "acct_missing"), id="deliveries"),
        pytest.param(lambda store: _webhooks.redeliver(store, "msg_missing"), id="redeliver"),
    ],
)
def test_an_unknown_account_or_event_is_a_lookup_error(store: Store, call: Callable[[Store], object]) -> None:
    """The delivery helpers name what they could not find."""
    with pytest.raises(LookupError, match="_missing"):
        call(store)
