"""Retries, timeouts, idempotency, pagination, logging and webhooks against the real sandbox.

The server runs with `--faults` (the X-Sandbox-Fault test header) and `--webhook-url` pointing at a
receiver on 127.0.0.1 started by these tests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

import cadenya
from cadenya import AuthenticatedClient, webhooks
from cadenya.api.account import get_account, rotate_webhook_secret
from cadenya.api.api_keys import (
    create_api_key,
    get_api_key,
    list_api_keys,
    reveal_api_key,
    revoke_api_key,
    rotate_api_key,
)
from cadenya.models import Account, APIKeyWithToken, CreateAPIKeyRequest, WebhookSecretRotatedEvent
from cadenya.sandbox import SandboxServer
from tests.sandbox_support import Caller, assert_no_spec_violations

STYLES = ["sync", "asyncio"]


class Receiver:
    """A webhook endpoint on loopback that records deliveries by account and can fail an account's first few.

    Events of earlier tests may still arrive while a test runs (deliveries are retried in the background), so
    every test looks only at the events of its own account.
    """

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.failures_left: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                account_id = _account_of(body)
                with receiver.arrived:
                    receiver.attempts[account_id] += 1
                    if receiver.failures_left[account_id] > 0:
                        receiver.failures_left[account_id] -= 1
                        self.send_response(500)
                    else:
                        receiver.deliveries.append((dict(self.headers.items()), body))
                        self.send_response(204)
                    receiver.arrived.notify_all()
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def of(self, account_id: str) -> list[tuple[dict[str, str], bytes]]:
        """The deliveries of one account's events, in the order they arrived."""
        with self.arrived:
            return [(headers, body) for headers, body in self.deliveries if _account_of(body) == account_id]

    def wait_for(self, account_id: str, count: int, timeout: float = 15.0) -> list[tuple[dict[str, str], bytes]]:
        """Wait until `count` events of the account have arrived (or the timeout), then return them."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.of(account_id)) >= count, timeout=timeout)
        return self.of(account_id)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _account_of(body: bytes) -> str:
    account_id = json.loads(body).get("data", {}).get("accountId", "")
    return str(account_id)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    hooks = Receiver()
    yield hooks
    hooks.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[SandboxServer]:
    db = tmp_path_factory.mktemp("hardened") / "hardened.db"
    running = SandboxServer(db, extra_args=("--faults", "--webhook-url", receiver.url)).start()
    yield running
    running.stop()
    assert_no_spec_violations(running)


@pytest.fixture
def tenant(server: SandboxServer) -> dict[str, str]:
    return server.new_account("Hardening")


def client(server: SandboxServer, token: str, **options: Any) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=server.base_url, token=token, **options)


def faulty(server: SandboxServer, tenant: dict[str, str], fault: str, **options: Any) -> AuthenticatedClient:
    """A client whose requests carry one fault, identified so it fires only `times` times."""
    header = f"{fault}; id={uuid.uuid4().hex}"
    return client(server, tenant["apiKey"], **options).with_headers({"X-Sandbox-Fault": header})


def _key_names(server: SandboxServer, tenant: dict[str, str]) -> list[str]:
    with client(server, tenant["apiKey"]) as api:
        return [key.metadata.name for key in cadenya.paginate(list_api_keys.sync_detailed, client=api)]


def call(style: str, module: Any, *args: Any, client: AuthenticatedClient, **kwargs: Any) -> Any:
    if style == "sync":
        with client:
            return module.sync_detailed(*args, client=client, **kwargs)

    async def run() -> Any:
        async with client:
            return await module.asyncio_detailed(*args, client=client, **kwargs)

    return asyncio.run(run())


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    "fault",
    [
        pytest.param("status=503; retry-after-ms=10", id="503"),
        pytest.param("status=429; retry-after=0", id="429-seconds"),
        pytest.param("status=429; retry-after-ms=50", id="429-ms"),
        pytest.param("status=429; retry-after-date=0", id="429-http-date"),
        pytest.param("reset", id="connection-reset"),
    ],
)
def test_a_transient_failure_then_success(
    style: str, fault: str, server: SandboxServer, tenant: dict[str, str]
) -> None:
    """The first attempt fails as injected; the retry gets the real answer."""
    response = call(style, get_account, client=faulty(server, tenant, f"{fault}; times=1"))
    assert response.status_code == 200
    assert isinstance(response.parsed, Account)


@pytest.mark.parametrize(
    ("fault", "low", "high"),
    [
        pytest.param("status=429; retry-after=3", 3.0, 3.0, id="seconds"),
        pytest.param("status=429; retry-after=3; retry-after-ms=1500", 1.5, 1.5, id="ms-wins"),
        pytest.param("status=429; retry-after-date=30", 27.0, 30.0, id="http-date"),
    ],
)
def test_a_429_from_the_sandbox_says_how_long_to_wait(
    fault: str, low: float, high: float, server: SandboxServer, tenant: dict[str, str]
) -> None:
    """With retries off, the sandbox's 429 raises RateLimitError whose retry_after is the wait it asked for."""
    api = cadenya.Cadenya(base_url=server.base_url, token=tenant["apiKey"], max_retries=0)
    with api, pytest.raises(cadenya.RateLimitError) as raised:
        api.account.get(extra_headers={"X-Sandbox-Fault": f"{fault}; id={uuid.uuid4().hex}"})
    retry_after = raised.value.retry_after
    assert retry_after is not None
    assert low <= retry_after <= high


@pytest.mark.parametrize("style", STYLES)
def test_a_failure_that_lasts_is_raised_after_the_retries(
    style: str, server: SandboxServer, tenant: dict[str, str]
) -> None:
    """Three resets in a row: APIConnectionError after 2 retries."""
    with pytest.raises(cadenya.APIConnectionError, match="after 2 retries"):
        call(style, get_account, client=faulty(server, tenant, "reset; times=3"))


@pytest.mark.parametrize("style", STYLES)
def test_a_stalled_server_times_out(style: str, server: SandboxServer, tenant: dict[str, str]) -> None:
    """A read timeout of 0.3 s against a 2 s stall raises APITimeoutError, without waiting for the stall."""
    started = time.monotonic()
    stalled = faulty(server, tenant, "delay=2; times=1", timeout=0.3, max_retries=0)
    with pytest.raises(cadenya.APITimeoutError):
        call(style, get_account, client=stalled)
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("fault", ["nonjson", "truncated"])
def test_an_unreadable_success_body_is_a_typed_error(
    style: str, fault: str, server: SandboxServer, tenant: dict[str, str]
) -> None:
    """A 200 that is not JSON, or JSON cut short, raises ResponseValidationError naming the operation."""
    with pytest.raises(cadenya.ResponseValidationError, match=r"^get_account: the 200 response body"):
        call(style, get_account, client=faulty(server, tenant, fault))


@pytest.mark.parametrize("style", STYLES)
def test_the_same_idempotency_key_replays_the_first_create(
    style: str, server: SandboxServer, tenant: dict[str, str]
) -> None:
    """Same key and body: the first answer again (token included), and no second key."""
    api = client(server, tenant["apiKey"])
    body = CreateAPIKeyRequest(name="once")
    first = call(style, create_api_key, client=api, body=body, idempotency_key="create-once")
    second = call(
        style, create_api_key, client=client(server, tenant["apiKey"]), body=body, idempotency_key="create-once"
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.parsed.to_dict() == first.parsed.to_dict()
    assert _key_names(server, tenant).count("once") == 1


@pytest.mark.parametrize("style", STYLES)
def test_the_same_idempotency_key_with_another_body_is_a_conflict(
    style: str, server: SandboxServer, tenant: dict[str, str]
) -> None:
    """Same key, different body: a typed 409 idempotency_key_reused, not retried."""
    call(
        style,
        create_api_key,
        client=client(server, tenant["apiKey"]),
        body=CreateAPIKeyRequest(name="a"),
        idempotency_key="k1",
    )
    response = call(
        style,
        create_api_key,
        client=client(server, tenant["apiKey"]),
        body=CreateAPIKeyRequest(name="b"),
        idempotency_key="k1",
    )
    with pytest.raises(cadenya.ConflictError) as raised:
        cadenya.unwrap(response)
    assert raised.value.code == "idempotency_key_reused"
    assert raised.value.request_id and raised.value.request_id.startswith("req_")


def test_an_idempotency_key_replays_only_to_the_key_that_sent_it(server: SandboxServer, tenant: dict[str, str]) -> None:
    """Another key sending the owner's Idempotency-Key and body gets an answer of its own, never the owner's token."""
    body = CreateAPIKeyRequest(name="provisioned")
    with client(server, tenant["apiKey"]) as owner:
        first = cadenya.unwrap(create_api_key.sync_detailed(client=owner, body=body, idempotency_key="shared"))
        other = cadenya.unwrap(create_api_key.sync_detailed(client=owner, body=CreateAPIKeyRequest(name="other")))
    with client(server, str(other.spec.token)) as stranger:
        second = create_api_key.sync_detailed(client=stranger, body=body, idempotency_key="shared")
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert isinstance(second.parsed, APIKeyWithToken)
    assert second.parsed.metadata.id != first.metadata.id
    assert second.parsed.spec.token != first.spec.token


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param("status=abc", id="status-not-a-number"),
        pytest.param("status=700", id="status-out-of-range"),
        pytest.param("status=503; times=many", id="times-not-a-number"),
        pytest.param("delay=soon", id="delay-not-a-number"),
        pytest.param("retry-after-date=later", id="date-not-a-number"),
        pytest.param("explode", id="unknown-option"),
    ],
)
def test_a_fault_header_the_switch_cannot_read_is_a_400(
    server: SandboxServer, tenant: dict[str, str], fault: str
) -> None:
    """The test-only fault switch answers an unreadable X-Sandbox-Fault with the Error body, not a crash."""
    response = httpx.get(
        f"{server.base_url}/v1/account",
        headers={"Authorization": f"Bearer {tenant['apiKey']}", "X-Sandbox-Fault": fault},
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_argument")
    assert response.headers["x-request-id"].startswith("req_")


@pytest.mark.parametrize("style", STYLES)
def test_a_retried_create_creates_once(style: str, server: SandboxServer, tenant: dict[str, str]) -> None:
    """A create whose first answer is lost (connection dropped after the write) is retried with its key: one key."""
    dropped = faulty(server, tenant, "reset-after; times=1")
    response = call(style, create_api_key, client=dropped, body=CreateAPIKeyRequest(name="retried"))
    assert response.status_code == 201
    assert _key_names(server, tenant).count("retried") == 1


def test_pagination_walks_the_real_pages_with_filters(server: SandboxServer, tenant: dict[str, str]) -> None:
    """paginate and apaginate see every key (revoked ones with include_revoked) across pages of 2."""
    api = Caller(server.base_url, tenant["apiKey"], "sync")
    created = [
        cadenya.unwrap(api(create_api_key, body=CreateAPIKeyRequest(name=f"p{i}"))).metadata.id for i in range(5)
    ]
    api(revoke_api_key, created[0])
    with client(server, tenant["apiKey"]) as sync_client:
        active = [k.metadata.id for k in cadenya.paginate(list_api_keys.sync_detailed, client=sync_client, page_size=2)]
        everything = [
            k.metadata.id
            for k in cadenya.paginate(
                list_api_keys.sync_detailed, client=sync_client, page_size=2, include_revoked=True
            )
        ]

    async def collect() -> list[str]:
        async with client(server, tenant["apiKey"]) as async_client:
            return [
                k.metadata.id
                async for k in cadenya.apaginate(list_api_keys.asyncio_detailed, client=async_client, page_size=2)
            ]

    assert len(everything) == 6
    assert set(created) <= set(everything)
    assert created[0] not in active
    assert len(active) == 5
    assert asyncio.run(collect()) == active


def test_a_logged_session_never_shows_a_token(
    server: SandboxServer, tenant: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Create, reveal, rotate and fail with DEBUG logging on: the log has every call and no token."""
    tokens = [tenant["apiKey"], tenant["sessionToken"]]
    with caplog.at_level(logging.DEBUG, logger="cadenya"), client(server, tenant["apiKey"]) as api:
        created = cadenya.unwrap(
            create_api_key.sync_detailed(client=api, body=CreateAPIKeyRequest(name="logged", revealable=True))
        )
        tokens.append(str(created.spec.token))
        tokens.append(cadenya.unwrap(reveal_api_key.sync_detailed(created.metadata.id, client=api)).token)
        rotated = cadenya.unwrap(rotate_api_key.sync_detailed(created.metadata.id, client=api))
        tokens.append(str(rotated.spec.token))
        with client(server, tokens[2]) as old:
            assert get_api_key.sync_detailed(created.metadata.id, client=old).status_code == 401
        account = cadenya.unwrap(rotate_webhook_secret.sync_detailed(client=api))
        tokens.append(str(account.info.webhook_events_hmac_secret))
    lines = caplog.text
    assert "POST /v1/api-keys -> 201" in lines
    assert f"POST /v1/api-keys/{created.metadata.id}/reveal -> 200" in lines
    assert f"GET /v1/api-keys/{created.metadata.id} -> 401" in lines
    assert "request id req_" in lines
    for token in tokens:
        assert token not in lines


def _webhook_secret(api: AuthenticatedClient) -> str:
    account = get_account.sync_detailed(client=api).parsed
    assert isinstance(account, Account)
    return str(account.info.webhook_events_hmac_secret)


def _events(deliveries: list[tuple[dict[str, str], bytes]], secret: str, kinds: set[str]) -> list[dict[str, Any]]:
    verified = []
    for headers, body in deliveries:
        try:
            event = webhooks.verify(body, headers, secret).to_dict()
        except webhooks.WebhookVerificationError:
            continue
        if event["type"] in kinds:
            verified.append(event)
    return verified


def test_webhooks_are_signed_before_and_after_a_secret_rotation(
    server: SandboxServer, tenant: dict[str, str], receiver: Receiver
) -> None:
    """Events verify with the secret current when they happened; after rotation the old secret fails."""
    with client(server, tenant["apiKey"]) as api:
        old_secret = _webhook_secret(api)
        key = cadenya.unwrap(create_api_key.sync_detailed(client=api, body=CreateAPIKeyRequest(name="hooked")))
        rotated = cadenya.unwrap(rotate_webhook_secret.sync_detailed(client=api))
        new_secret = str(rotated.info.webhook_events_hmac_secret)
        cadenya.unwrap(rotate_api_key.sync_detailed(key.metadata.id, client=api))
        cadenya.unwrap(revoke_api_key.sync_detailed(key.metadata.id, client=api))
    deliveries = receiver.wait_for(tenant["accountId"], 4)
    before = _events(deliveries, old_secret, {"api_key.created"})
    after = _events(deliveries, new_secret, {"webhook_secret.rotated", "api_key.rotated", "api_key.revoked"})
    assert [e["data"]["apiKeyId"] for e in before] == [key.metadata.id]
    assert [e["type"] for e in after] == ["webhook_secret.rotated", "api_key.rotated", "api_key.revoked"]
    assert _events(deliveries, old_secret, {"api_key.rotated", "api_key.revoked"}) == []
    assert all(e["data"]["accountId"] == tenant["accountId"] for e in before + after)


def test_the_rotation_event_verifies_with_the_old_secret_too(
    server: SandboxServer, tenant: dict[str, str], receiver: Receiver
) -> None:
    """webhook_secret.rotated carries two signatures: a receiver holding the old secret can verify it."""
    with client(server, tenant["apiKey"]) as api:
        old_secret = _webhook_secret(api)
        new_secret = str(
            cadenya.unwrap(rotate_webhook_secret.sync_detailed(client=api)).info.webhook_events_hmac_secret
        )
    ((headers, body),) = receiver.wait_for(tenant["accountId"], 1)
    assert len(headers["webhook-signature"].split()) == 2
    for secret in (old_secret, new_secret):
        assert isinstance(webhooks.verify(body, headers, secret), WebhookSecretRotatedEvent)


def test_failed_webhook_deliveries_are_retried(
    server: SandboxServer, tenant: dict[str, str], receiver: Receiver
) -> None:
    """Two failed attempts, then the receiver accepts: the event arrives once, verified."""
    with receiver.arrived:
        receiver.failures_left[tenant["accountId"]] = 2
    with client(server, tenant["apiKey"]) as api:
        secret = _webhook_secret(api)
        key = cadenya.unwrap(create_api_key.sync_detailed(client=api, body=CreateAPIKeyRequest(name="retry-hook")))
    events = _events(receiver.wait_for(tenant["accountId"], 1), secret, {"api_key.created"})
    assert [e["data"]["apiKeyId"] for e in events] == [key.metadata.id]
    assert receiver.attempts[tenant["accountId"]] == 3
    assert isinstance(key, APIKeyWithToken)


def test_sandbox_without_faults_ignores_the_fault_header(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """The fault switch is test-only: the default server ignores X-Sandbox-Fault."""
    response = httpx.get(
        f"{sandbox.base_url}/v1/account",
        headers={"Authorization": f"Bearer {account['apiKey']}", "X-Sandbox-Fault": "status=503"},
    )
    assert response.status_code == 200


def test_server_file_is_where_the_sandbox_keeps_it(server: SandboxServer) -> None:
    """The hardened server uses its own database, not the session one."""
    assert Path(server.db).name == "hardened.db"
