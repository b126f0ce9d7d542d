"""The Starlette application: one generic endpoint per spec operation, validated both ways."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import re
import secrets
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from itertools import accumulate, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cadenya.lib._plural import counted

from . import _secrets
from ._faults import FaultMiddleware
from ._handlers import ApiError, Call
from ._operations import HANDLERS
from ._routing import RawPathRoute
from ._spec import Operation, ParameterError, Spec, describe, describe_safely, first_error
from ._store import BUSY_TIMEOUT, SESSION_TTL, Busy, Store, active_api_key, active_session, now, timestamp
from ._webhooks import WebhookSender

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger("cadenya.sandbox")

MAX_BODY_BYTES = 1 << 20
"""The largest request body read: 1 MiB. A larger one is answered 413 as soon as that is known."""
MAX_JSON_DEPTH = 32
"""How deeply arrays and objects may nest in a request body (the API's own bodies need 3 levels)."""
MAX_NUMBER_DIGITS = 100
"""The most digits an integer in a request body may have (no field of the API takes a number)."""
BODY_TIMEOUT = 10.0
"""Seconds a request body has to arrive in full, once its headers have; then 408 and the connection closes."""


def _status_headers(status: int) -> dict[str, str]:
    """Headers every answer with this status carries."""
    if status in (429, 503):
        return {"Retry-After": "1"}
    if status == 409:
        # A conflict here is about the state of the account: asking again will not change it.
        return {"X-Should-Retry": "false"}
    if status == 408:
        # The rest of a body that came too slowly may still be on its way: the connection cannot be reused.
        return {"Connection": "close"}
    return {}


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=_status_headers(error.status))


def _render(payload: Any) -> bytes:
    """The JSON bytes of an answer (as Starlette's JSONResponse writes them); raises on text that is not Unicode."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


class _Malformed(ValueError):
    """A request body that JSON parsing refuses, with the reason to tell the client."""


def _no_constant(name: str) -> Any:
    raise _Malformed(f"{name} is not a JSON value")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _Malformed(f"a number has more than {MAX_NUMBER_DIGITS} digits")
    return int(text)


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _Malformed("a number is too large to be a finite double")
    return number


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _Malformed("an object repeats a member name")
    return found


_JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"')
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


def _nesting(raw: bytes) -> int:
    """How deeply arrays and objects nest in `raw`, a valid JSON text: its brackets outside strings, counted."""
    brackets = _JSON_STRING.sub(b"", raw).translate(_BRACKET_STEPS, _NOT_BRACKETS)
    return max(accumulate(map(int.__sub__, brackets, repeat(1))), default=0)


def parse_json(raw: bytes) -> Any:
    """A request body as JSON, or `_Malformed`: not UTF-8, not JSON, NaN/Infinity, repeated names, numbers too
    long or too large for a double (1e400), nesting too deep, or strings that are not Unicode text (unpaired surrogate escapes such as \\ud800)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Malformed("it is not UTF-8") from None
    try:
        body = json.loads(
            text,
            parse_constant=_no_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
            object_pairs_hook=_unique_names,
        )
    except RecursionError:
        raise _Malformed(f"it nests arrays or objects deeper than {MAX_JSON_DEPTH} levels") from None
    except json.JSONDecodeError as error:
        raise _Malformed(f"{error.msg} at line {error.lineno} column {error.colno}") from None
    if _nesting(raw) > MAX_JSON_DEPTH:
        raise _Malformed(f"it nests arrays or objects deeper than {MAX_JSON_DEPTH} levels")
    try:
        _render(body)
    except UnicodeEncodeError:
        raise _Malformed("a string holds an unpaired surrogate escape (\\ud800-\\udfff), which is not text") from None
    return body


def _is_json(content_type: str | None) -> bool:
    """Whether a Content-Type header names JSON in UTF-8: `application/json`, optionally `; charset=utf-8`."""
    if content_type is None:
        return False
    media_type, *parameters = content_type.split(";")
    if media_type.strip().lower() != "application/json":
        return False
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


def _fingerprint(op: Operation, request: Request, body: Any) -> bytes:
    """What makes two requests the same request, for Idempotency-Key purposes."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")) if body is not None else ""
    return hashlib.sha256(f"{op.operation_id}\0{request.url.path}\0{canonical}".encode()).digest()


IDEMPOTENCY_WINDOW = timedelta(hours=24)


def _stored_answer(db: sqlite3.Connection, api_key_id: str, key: str) -> sqlite3.Row | None:
    """The calling key's kept answer for an Idempotency-Key, if younger than the window; older ones are forgotten.

    Answers are kept per key: another credential that sends the same Idempotency-Key never gets this answer
    (which may hold a token shown once).
    """
    cutoff = timestamp(datetime.now(UTC) - IDEMPOTENCY_WINDOW)
    db.execute("DELETE FROM idempotent_answers WHERE created_at < ?", (cutoff,))
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM idempotent_answers WHERE api_key_id = ? AND key = ?", (api_key_id, key)
    ).fetchone()
    return row


class _Rejected(Exception):
    """Leaves a transaction without its writes: nothing a rejected request did may stay."""

    def __init__(self, status: int, payload: Any) -> None:
        super().__init__(status)
        self.status, self.payload = status, payload


class RequestIdMiddleware:
    """Give every response, errors and unrouted paths included, an `X-Request-Id`; turn any failure that escapes
    the application into the JSON `Error` 500, so that the connection stays usable."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = "req_" + secrets.token_hex(12)
        scope.setdefault("state", {})["request_id"] = request_id
        started = finished = False

        async def send_with_id(message: Message) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = True
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if started and not finished:
                raise  # an answer cut short can only end with the connection
            logger.exception("request %s failed", request_id)
            if not started:
                failure = ApiError(500, "internal", "The sandbox failed to answer; nothing was changed.")
                await error_response(failure)(scope, receive, send_with_id)


class Dispatcher:
    """Validates a request against its operation, runs the handler in one transaction, validates the answer."""

    def __init__(
        self, spec: Spec, store: Store, *, validate: bool, webhooks: WebhookSender | None, body_timeout: float
    ) -> None:
        self.spec, self.store, self.validate, self.webhooks = spec, store, validate, webhooks
        self.body_timeout = body_timeout

    def endpoint(self, operations: dict[str, Operation]) -> Callable[[Request], Any]:
        async def serve(request: Request) -> Response:
            op = operations.get(request.method) or operations["GET"]
            try:
                body = await self._read_body(op, request)
                return await run_in_threadpool(self.handle, op, request, body)
            except ApiError as error:
                # Errors found before the handler ran (authentication, parameters, body) are checked too.
                try:
                    self._check_answer(op, error.status, error.body(), request)
                except ApiError as undocumented:
                    return error_response(undocumented)
                return error_response(error)

        return serve

    async def _read_body(self, op: Operation, request: Request) -> bytes:
        """The body of an operation that takes one, read within the size cap and the time limit.

        A body over the cap is refused as soon as that is known (from Content-Length, or while reading), and
        the rest is never read into memory. Operations without a body never read one.
        """
        if op.body_validator is None:
            return b""
        too_large = ApiError(
            413,
            "payload_too_large",
            f"The request body is larger than {MAX_BODY_BYTES} bytes, the most this API reads.",
        )
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise too_large
        limit = request.scope.get("state", {}).get("body_timeout", self.body_timeout)
        received = bytearray()
        try:
            async with asyncio.timeout(limit):
                async for chunk in request.stream():
                    received += chunk
                    if len(received) > MAX_BODY_BYTES:
                        raise too_large
        except TimeoutError:
            raise ApiError(
                408, "request_timeout", f"The request body did not arrive within {counted(limit, 'second')}."
            ) from None
        except ClientDisconnect:
            raise ApiError(400, "invalid_argument", "The connection closed before the body arrived.") from None
        return bytes(received)

    def _token(self, request: Request) -> str:
        """The bearer token of the one Authorization header; several headers are refused, never picked from."""
        sent = request.headers.getlist("authorization")
        if len(sent) > 1:
            raise ApiError(401, "unauthenticated", "Send one `Authorization` header, not several.")
        scheme, _, token = (sent[0] if sent else "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "unauthenticated", "Send an API key as `Authorization: Bearer <token>`.")
        return token.strip()

    def _parameters(self, op: Operation, request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
        path: dict[str, Any] = {}
        query: dict[str, Any] = {}
        for parameter in op.parameters:
            if parameter.location == "path":
                raw = [request.path_params[parameter.name]]
            elif parameter.location == "header":
                raw = request.headers.getlist(parameter.name)
                if not raw:
                    continue
            else:
                raw = request.query_params.getlist(parameter.name)
                if not raw:
                    if parameter.required:
                        raise ParameterError(parameter.name, "is required", parameter.location)
                    continue
            value = parameter.coerce(raw)
            if self.validate and (violation := first_error(parameter.validator, value)) is not None:
                raise ParameterError(parameter.name, describe(violation), parameter.location)
            if parameter.location != "header":
                (path if parameter.location == "path" else query)[parameter.name] = value
        return path, query

    def _body(self, op: Operation, request: Request, raw: bytes) -> Any:
        if op.body_validator is None:
            return None
        if not raw:
            if op.body_required:
                raise ApiError(op.validation_status(body=False), "invalid_argument", "A JSON request body is required.")
            return None
        if not _is_json(request.headers.get("content-type")):
            raise ApiError(
                415, "unsupported_media_type", "Send the request body as JSON, with `Content-Type: application/json`."
            )
        try:
            body = parse_json(raw)
        except _Malformed as error:
            raise ApiError(
                op.validation_status(body=False),
                "invalid_argument",
                f"The body is not valid JSON: {error}.",
                [{"field": "body", "reason": str(error)}],
            ) from None
        if self.validate and (violation := first_error(op.body_validator, body)) is not None:
            location = "/".join(str(part) for part in violation.absolute_path) or "body"
            reason = describe(violation)
            raise ApiError(
                op.validation_status(body=True),
                "invalid_argument",
                f"The request body does not fit {op.operation_id}: {location}: {reason}",
                [{"field": location, "reason": reason}],
            )
        return body

    def _authenticate(
        self, op: Operation, db: sqlite3.Connection, token: str
    ) -> tuple[sqlite3.Row, sqlite3.Row | None]:
        rejected = ApiError(
            401, "unauthenticated", "The token is not valid, has expired, or has been revoked or rotated."
        )
        if "apiKeyAuth" in op.security and _secrets.has_valid_checksum(token, _secrets.API_KEY_PREFIX):
            key = active_api_key(db, token)
            if key is None:
                raise rejected
            account = db.execute("SELECT * FROM accounts WHERE id = ?", (key["account_id"],)).fetchone()
            return account, key
        if "sessionToken" in op.security and _secrets.has_valid_checksum(token, _secrets.SESSION_PREFIX):
            session = active_session(db, token, self.store.session_ttl)
            if session is None:
                raise rejected
            return db.execute("SELECT * FROM accounts WHERE id = ?", (session["account_id"],)).fetchone(), None
        raise rejected

    def handle(self, op: Operation, request: Request, raw_body: bytes) -> Response:
        token = self._token(request)
        try:
            path, query = self._parameters(op, request)
        except ParameterError as error:
            if error.location == "path" and 404 in op.error_statuses:
                # An id that cannot be valid names no resource.
                raise ApiError(404, "not_found", f"Parameter {error}.") from None
            raise ApiError(
                op.validation_status(body=False),
                "invalid_argument",
                f"Parameter {error}.",
                [{"field": error.field, "reason": error.reason}],
            ) from None
        body = self._body(op, request, raw_body)
        try:
            return self._transact(op, request, token, path, query, body)
        except Busy:
            raise ApiError(503, "unavailable", "The sandbox is busy with other writes; try again shortly.") from None

    def _transact(
        self, op: Operation, request: Request, token: str, path: dict[str, Any], query: dict[str, Any], body: Any
    ) -> Response:
        """Authenticate and run the handler (or replay a kept answer) in one transaction; render before commit."""
        idempotency_key = request.headers.get("idempotency-key") if op.method == "POST" else None
        content: bytes | None = None
        replayed = False
        recorded = False
        api_key: sqlite3.Row | None = None
        try:
            with self.store.transaction(write=op.method != "GET") as db:
                account, api_key = self._authenticate(op, db, token)
                call = Call(op, db, self.store, account, api_key, path, query, body)
                credential = api_key["id"] if api_key is not None else ""
                fingerprint = _fingerprint(op, request, body) if idempotency_key else b""
                stored = _stored_answer(db, credential, idempotency_key) if idempotency_key else None
                if stored is not None:
                    if stored["request_digest"] != fingerprint:
                        raise ApiError(409, "idempotency_key_reused",
                                       "This Idempotency-Key was used with a different request.")  # fmt: skip
                    status = stored["status"]
                    content = self.store.vault.open(stored["body"]).encode() if stored["body"] else None
                    replayed = True
                else:
                    status, payload = self._run_handler(op, call, request)
                    # Rendered inside the transaction: an answer that cannot be sent leaves nothing behind.
                    content = _render(payload) if payload is not None else None
                    if idempotency_key:
                        # The answer may hold a token shown once: it is kept encrypted, like revealable keys.
                        sealed = self.store.vault.seal(content.decode()) if content is not None else None
                        db.execute(
                            "INSERT INTO idempotent_answers (api_key_id, key, operation_id, request_digest, status,"
                            " body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (credential, idempotency_key, op.operation_id, fingerprint, status, sealed, now()),
                        )
                    if self.webhooks is not None and call.events:
                        (sealed_secret,) = db.execute(
                            "SELECT webhook_secret FROM accounts WHERE id = ?", (account["id"],)
                        ).fetchone()
                        current = self.store.vault.open(sealed_secret)
                        previous = self.store.vault.open(account["webhook_secret"])
                        # An event of the request that rotated the secret is signed with both, so a receiver
                        # still holding the old one can verify the event that tells it to change.
                        signing = (current,) if previous == current else (previous, current)
                        for kind, data in call.events:
                            event = {**data, "accountId": account["id"]}
                            recorded = self.webhooks.record(db, account["id"], kind, event, signing) or recorded
        except _Rejected as rejected:
            status, content = rejected.status, _render(rejected.payload)
        if self.webhooks is not None and recorded:
            self.webhooks.wake()
        self._touch(api_key)
        headers = _status_headers(status)
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        if content is None:
            return Response(status_code=status, headers=headers)
        return Response(content, status_code=status, headers=headers, media_type="application/json")

    def _run_handler(self, op: Operation, call: Call, request: Request) -> tuple[int, Any]:
        try:
            result = HANDLERS[op.operation_id](call)
        except ApiError as error:
            status, payload = error.status, error.body()
        else:
            status, payload = result if isinstance(result, tuple) else (op.success_status, result)
        self._check_answer(op, status, payload, request)
        if status >= 400:
            raise _Rejected(status, payload)
        return status, payload

    def _check_answer(self, op: Operation, status: int, payload: Any, request: Request) -> None:
        """An answer the spec does not allow is a sandbox bug: log it and send a 500, never the answer."""
        if not self.validate:
            return
        problem = _spec_problem(op, status, payload)
        if problem:
            logger.error(
                "response of %s violates the spec: %s (request id %s)",
                op.operation_id,
                problem,
                request.scope.get("state", {}).get("request_id"),
            )
            raise ApiError(500, "internal", "The sandbox produced an answer its spec does not allow.")

    def _touch(self, api_key: sqlite3.Row | None) -> None:
        """Record when a key was last used, at most once a minute so reads stay reads; skipped when busy."""
        if api_key is None:
            return
        current = now()
        if api_key["last_used_at"] is None or api_key["last_used_at"][:16] != current[:16]:
            try:
                with self.store.transaction() as db:
                    db.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (current, api_key["id"]))
            except Busy:
                pass


def _spec_problem(op: Operation, status: int, payload: Any) -> str:
    """What makes this answer one the spec does not allow, or "" when it is allowed."""
    key = op.response_key(status)
    if key is None:
        return f"status {status} is not documented"
    validator = op.responses[key]
    if validator is None:
        return "" if payload is None else "a body was produced for a response that has none"
    violation = first_error(validator, payload)
    if violation is not None:
        return describe_safely(violation)
    if status >= 400 and payload["code"] not in op.error_codes.get(key, frozenset()):
        return f"error code {payload['code']!r} is not documented for status {key}"
    return ""


async def _unrouted(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer with the Error body too (and 405 with its Allow header)."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "internal")
    response = error_response(ApiError(status, code, f"{request.method} {request.url.path} is not part of this API."))
    if isinstance(exc, HTTPException) and exc.headers:
        response.headers.update(exc.headers)
    return response


def create_app(
    db_path: Path | str,
    *,
    validate: bool = True,
    spec: Spec | None = None,
    webhook_url: str | None = None,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
    faults: bool = False,
    body_timeout: float = BODY_TIMEOUT,
    busy_timeout: float = BUSY_TIMEOUT,
    session_ttl: float = SESSION_TTL,
) -> Starlette:
    """The sandbox as an ASGI app over the SQLite database at `db_path`.

    `webhook_url` receives the signed events of accounts without a webhook URL of their own, through
    `webhook_transport` when given (an in-process receiver) or the network; `faults` turns on the test-only
    fault switch.
    `body_timeout` bounds the time a request body takes to arrive (then 408), `busy_timeout` the time a
    request waits for another one's write lock (then 503), `session_ttl` the seconds a session token is
    accepted after it was issued (then 401).
    """
    spec = spec or Spec()
    missing = {op.operation_id for op in spec.operations} ^ HANDLERS.keys()
    if missing:
        raise RuntimeError(f"operations without a handler, or handlers without an operation: {sorted(missing)}")
    store = Store(Path(db_path), busy_timeout=busy_timeout, session_ttl=session_ttl)
    sender = WebhookSender(webhook_url, store, transport=webhook_transport)
    dispatcher = Dispatcher(spec, store, validate=validate, webhooks=sender, body_timeout=body_timeout)
    by_path: dict[str, dict[str, Operation]] = {}
    for op in spec.operations:
        by_path.setdefault(op.path, {})[op.method] = op
    routes = [
        RawPathRoute(path, dispatcher.endpoint(operations), methods=list(operations))
        for path, operations in by_path.items()
    ]
    routes.append(RawPathRoute("/openapi.json", lambda request: Response(spec.json, media_type="application/json")))

    @contextlib.asynccontextmanager
    async def close_store_on_shutdown(app: Starlette) -> AsyncIterator[None]:
        yield
        sender.close()
        store.close()

    app = Starlette(
        routes=routes, exception_handlers={404: _unrouted, 405: _unrouted}, lifespan=close_store_on_shutdown
    )
    # A path with a trailing slash (an empty id) is unknown: the JSON 404, not a redirect with an empty body.
    app.router.redirect_slashes = False
    if faults:
        app.add_middleware(FaultMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.state.store = store
    app.state.webhooks = sender
    app.state.spec = spec
    return app
