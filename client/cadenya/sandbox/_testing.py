"""The sandbox for testing an integration: start it, hand out accounts and clients, receive webhooks, stop.

    with Sandbox() as sandbox:                      # a server on 127.0.0.1 and a free port, a temporary database
        account = sandbox.new_account()
        with sandbox.client(account) as client, sandbox.webhooks(account) as hooks:
            client.api_keys.create(name="ci")
            event = hooks.wait_for("api_key.created")

`Sandbox(in_process=True)` serves the same app inside this process instead, through an ASGI transport: no
socket, no child process. The pytest plugin (`cadenya.lib.pytest_plugin`) gives the same as fixtures.
"""

from __future__ import annotations

import contextlib
import http.server
import itertools
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.from_thread

import cadenya
from cadenya import webhooks as _signatures
from cadenya.lib._http import default_library
from cadenya.lib.webhooks import AnyWebhookEvent

from ._process import SandboxServer
from ._store import Store
from ._webhooks import DeliveryRecord, deliveries, redeliver, set_webhook_url

IN_PROCESS_BASE_URL = "http://sandbox.invalid"
"""The base URL of an in-process sandbox: nothing listens there, requests go through the ASGI transport."""
IN_PROCESS_WEBHOOKS = "webhooks.sandbox.invalid"
"""The host of the in-process receivers' URLs: deliveries to it reach them without a socket."""
MAX_EVENT_BYTES = 1024 * 1024

_ids = itertools.count(1)


def fault_header(fault: str, *, times: int | None = None, id: str | None = None) -> dict[str, str]:
    """The header that makes a sandbox started with faults (`serve --faults`; `Sandbox()` always) answer with
    `fault` (`"status=503"`, `"delay=2"`, `"reset"`, `"nonjson"`, ...: see `cadenya.sandbox._faults`) for
    the first `times` requests (default 1) that carry it with the same `id`. Pass it to one call as
    `extra_headers=`, or to a client as `headers=` for all of its calls."""
    parts = [fault]
    if times is not None:
        parts.append(f"times={times}")
    parts.append(f"id={id or f'fault-{next(_ids)}-{time.monotonic_ns()}'}")
    return {"X-Sandbox-Fault": "; ".join(parts)}


@dataclass(frozen=True)
class SandboxAccount:
    """An account of the sandbox: its own tenant, with its system API key and a session token."""

    id: str
    name: str
    api_key: str = field(repr=False)
    """The account's system key: it reaches every workspace and administers the account."""
    session_token: str = field(repr=False)
    """A signed-in user's session token: accepted by `client.account.get()` only."""


class WebhookTimeout(AssertionError):
    """The event waited for did not arrive in time; the message lists what did."""


class WebhookReceiver:
    """Collects an account's webhook deliveries, each verified with the account's signing secret and decoded
    into its typed event. A delivery that does not verify is answered 400 and listed in `refused`."""

    def __init__(self, secret: Callable[[], str]) -> None:
        self._secret, self._known = secret, secret()
        self.events: list[AnyWebhookEvent] = []
        self.refused: list[str] = []
        self._taken = 0
        self._arrived = threading.Condition()
        self.url = ""

    def accept(self, body: bytes, headers: Any) -> int:
        """Verify and keep one delivery; the status to answer it with."""
        try:
            event = _signatures.verify(body, headers, self._known)
        except _signatures.WebhookVerificationError:
            self._known = self._secret()  # the secret may have been rotated since the last delivery
            try:
                event = _signatures.verify(body, headers, self._known)
            except _signatures.WebhookVerificationError as error:
                with self._arrived:
                    self.refused.append(str(error))
                    self._arrived.notify_all()
                return 400
        with self._arrived:
            self.events.append(event)
            self._arrived.notify_all()
        return 204

    def wait_for(self, event_type: str, timeout: float = 10.0) -> AnyWebhookEvent:
        """The next event of `event_type` (one not returned before), waiting up to `timeout` seconds for it.

        Raises `WebhookTimeout` (an AssertionError, so a test fails with it) saying what did arrive."""

        def found() -> AnyWebhookEvent | None:
            for index in range(self._taken, len(self.events)):
                if self.events[index].type_ == event_type:
                    return self.events[index]
            return None

        with self._arrived:
            self._arrived.wait_for(lambda: found() is not None, timeout=timeout)
            event = found()
            if event is not None:
                self._taken = self.events.index(event) + 1
                return event
            arrived = [f"{event.type_} at {event.timestamp.isoformat()}" for event in self.events] or ["nothing"]
        refused = f"; refused: {self.refused}" if self.refused else ""
        raise WebhookTimeout(f"no {event_type} event within {timeout:g} s; arrived: {', '.join(arrived)}{refused}")


class _ReceiverServer:
    """A `WebhookReceiver` behind an HTTP server on 127.0.0.1 and a free port, in a thread of this process."""

    def __init__(self, receiver: WebhookReceiver) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                status = 413 if length > MAX_EVENT_BYTES else receiver.accept(self.rfile.read(length), self.headers)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        receiver.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


if TYPE_CHECKING:
    import httpx
    from httpx import AsyncBaseTransport as _AsyncBaseTransport
    from httpx import BaseTransport as _BaseTransport
else:
    _AsyncBaseTransport = default_library().AsyncBaseTransport
    _BaseTransport = default_library().BaseTransport


class _InProcessReceivers(_AsyncBaseTransport):
    """The in-process sandbox's way out for webhooks: to a receiver of this process by its URL, or the network."""

    def __init__(self) -> None:
        self.receivers: dict[str, WebhookReceiver] = {}
        self._library = default_library()
        self._network = self._library.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != IN_PROCESS_WEBHOOKS:
            return await self._network.handle_async_request(request)
        receiver = self.receivers.get(request.url.path)
        if receiver is None:
            return self._library.Response(404, stream=self._library.ByteStream(b""))
        body = await request.aread()
        status = await anyio.to_thread.run_sync(receiver.accept, body, request.headers)
        return self._library.Response(status, stream=self._library.ByteStream(b""))

    async def aclose(self) -> None:
        await self._network.aclose()


class _PortalTransport(_BaseTransport):
    """A sync transport into the app through the HTTP library's ASGI transport, run on one event loop in its own
    thread."""

    def __init__(self, app: Any, portal: anyio.from_thread.BlockingPortal) -> None:
        self._library = default_library()
        self._asgi, self._portal = self._library.ASGITransport(app=app, raise_app_exceptions=False), portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()

        async def exchange() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            forwarded = self._library.Request(request.method, request.url, headers=request.headers, content=content)
            response = await self._asgi.handle_async_request(forwarded)
            return response.status_code, response.headers.raw, await response.aread()

        status, headers, body = self._portal.call(exchange)
        return self._library.Response(status, headers=headers, content=body, request=request)


class Sandbox:
    """A sandbox for tests and scripts, as a context manager: started on entry, stopped (and its temporary
    database removed) on exit.

    `db`: the SQLite database (a `Path` or a `str`); a temporary one when None. `in_process`: serve through an
    ASGI transport inside this process instead of a child process on 127.0.0.1. The fault switch is on
    (`fault_header`). The child process of the default mode stops by itself if this process dies.
    """

    def __init__(self, db: Path | str | None = None, *, in_process: bool = False) -> None:
        self._temporary = tempfile.TemporaryDirectory(prefix="cadenya-sandbox-") if db is None else None
        self.db = Path(db) if db is not None else Path(self._temporary.name) / "sandbox.db"  # type: ignore[union-attr]
        self.in_process = in_process
        self.base_url = IN_PROCESS_BASE_URL
        self._server: SandboxServer | None = None
        self._app: Any = None
        self._portal: contextlib.AbstractContextManager[anyio.from_thread.BlockingPortal] | None = None
        self._blocking_portal: anyio.from_thread.BlockingPortal | None = None
        self._receivers = _InProcessReceivers()
        self._store: Store | None = None
        self._tls: ssl.SSLContext | None = None

    def _tls_context(self) -> ssl.SSLContext:
        # Made once and shared: every httpx client otherwise loads the CA store again (about 25 ms), which
        # would be most of a test's fixture time. The sandbox speaks plain HTTP; nothing is verified with it.
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    # --- lifetime ---------------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self.in_process:
            from ._app import create_app

            self._app = create_app(self.db, faults=True, webhook_transport=self._receivers)
            self._portal = anyio.from_thread.start_blocking_portal()
            self._blocking_portal = self._portal.__enter__()
        else:
            self._server = SandboxServer(self.db, extra_args=("--faults",)).start()
            self.base_url = self._server.base_url
        self._store = Store(self.db)
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._app is not None:
            self._app.state.webhooks.close()
            self._app.state.store.close()
            self._app = None
        if self._portal is not None:
            self._portal.__exit__(None, None, None)
            self._portal = self._blocking_portal = None
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._temporary is not None:
            self._temporary.cleanup()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the sandbox is not running: use it as `with Sandbox() as sandbox:`")
        return self._store

    # --- accounts and clients ---------------------------------------------------------------------------

    def new_account(self, name: str = "Test account") -> SandboxAccount:
        """A new account, isolated from every other: its own keys, workspaces, service accounts and events."""
        created = self.store.create_account(name)
        return SandboxAccount(created["accountId"], created["name"], created["apiKey"], created["sessionToken"])

    def authenticated_client(self, account: SandboxAccount, **options: Any) -> cadenya.AuthenticatedClient:
        """An `AuthenticatedClient` acting as the account's system key; `options` as the client takes them."""
        if not options.keys() & {"verify_ssl", "http_client"}:
            options.setdefault("verify", self._tls_context())
        client = cadenya.AuthenticatedClient(base_url=self.base_url, token=account.api_key, **options)
        library = default_library()
        if self.in_process:
            if self._blocking_portal is None or self._app is None:
                raise RuntimeError("the sandbox is not running: use it as `with Sandbox() as sandbox:`")
            transport = _PortalTransport(self._app, self._blocking_portal)
            client.set_httpx_client(library.Client(base_url=self.base_url, transport=transport))
            client.set_async_httpx_client(
                library.AsyncClient(base_url=self.base_url, transport=library.ASGITransport(app=self._app))
            )
        else:
            # No kept-alive connection outlives a call: an async client may then be left to an event loop
            # that has ended without leaving a socket behind.
            no_keepalive = library.Limits(max_keepalive_connections=0)
            client.set_async_httpx_client(
                library.AsyncClient(base_url=self.base_url, limits=no_keepalive, verify=self._tls_context())
            )
        return client

    def client(self, account: SandboxAccount, **options: Any) -> cadenya.Cadenya:
        """A `Cadenya` acting as the account's system key; `options` as `AuthenticatedClient` takes them
        (`headers=fault_header(...)` to inject a fault in every call)."""
        return cadenya.Cadenya(client=self.authenticated_client(account, **options))

    def async_client(self, account: SandboxAccount, **options: Any) -> cadenya.AsyncCadenya:
        """An `AsyncCadenya` acting as the account's system key, usable from any event loop."""
        return cadenya.AsyncCadenya(client=self.authenticated_client(account, **options))

    # --- webhooks ---------------------------------------------------------------------------------------

    def set_webhook_url(self, account: SandboxAccount, url: str | None) -> None:
        """Deliver the account's events to `url` from now on (None: nowhere), while the sandbox runs."""
        set_webhook_url(self.store, account.id, url)

    def webhook_secret(self, account: SandboxAccount) -> str:
        """The account's current webhook signing secret."""
        with self.store.transaction(write=False) as db:
            (sealed,) = db.execute("SELECT webhook_secret FROM accounts WHERE id = ?", (account.id,)).fetchone()
        secret: str = self.store.vault.open(sealed)
        return secret

    @contextlib.contextmanager
    def webhooks(self, account: SandboxAccount) -> Iterator[WebhookReceiver]:
        """A receiver of the account's events for the `with` block: the account's webhook URL points at it
        (a server on 127.0.0.1, or in process without a socket) and is cleared at the end."""
        receiver = WebhookReceiver(lambda: self.webhook_secret(account))
        if self.in_process:
            path = f"/{account.id}"
            receiver.url = f"http://{IN_PROCESS_WEBHOOKS}{path}"
            self._receivers.receivers[path] = receiver
            try:
                self.set_webhook_url(account, receiver.url)
                yield receiver
            finally:
                self._receivers.receivers.pop(path, None)
                with contextlib.suppress(LookupError):
                    self.set_webhook_url(account, None)
            return
        server = _ReceiverServer(receiver)
        try:
            self.set_webhook_url(account, receiver.url)
            yield receiver
        finally:
            with contextlib.suppress(LookupError):
                self.set_webhook_url(account, None)
            server.close()

    def deliveries(self, account: SandboxAccount) -> list[DeliveryRecord]:
        """The account's events: id, type, attempts, last status and state (pending, delivered, failed)."""
        return deliveries(self.store, account.id)

    def redeliver(self, message_id: str) -> None:
        """Send an event again, with its id and payload, signed with its account's current secret."""
        redeliver(self.store, message_id)

    def trigger(self, account: SandboxAccount, event_type: str) -> dict[str, Any]:
        """Make an event of `event_type` happen in the account by doing what causes it, through the API."""
        from ._trigger import trigger

        with self.client(account) as client:
            return trigger(client, event_type)
