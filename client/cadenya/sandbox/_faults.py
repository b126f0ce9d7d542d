"""A fault switch for tests: only when the server runs with `serve --faults`.

A request carrying `X-Sandbox-Fault: <fault>; times=<N>; id=<ID>` gets the fault for the first N
requests (default 1) with that id; later ones pass through, so "503, then success" can be tested.

    status=503                      an Error answer with that status (429 rate_limited, 500 internal,
                                    other 5xx unavailable: the codes the spec documents)
    status=429; retry-after=1       ... with Retry-After in seconds
    status=429; retry-after-ms=150  ... with retry-after-ms
    status=429; retry-after-date=1  ... with Retry-After as an HTTP-date that many seconds ahead
    delay=2                         wait that many seconds before handling (for read timeouts)
    reset                           start a 200 answer, then drop the connection mid-body
    reset-after                     handle the request (its writes commit), then drop the answer that way
    nonjson                         a 200 whose body is not JSON
    truncated                       a 200 whose JSON body is cut short
    body-timeout=0.2                read the request body with this time limit instead of the server's

A header the switch cannot read (an unknown option, a number that is not one) is answered 400 with the
`Error` body, code `invalid_argument`.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import threading
import time
from collections import Counter
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class FaultMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        header = dict(scope.get("headers", [])).get(b"x-sandbox-fault") if scope["type"] == "http" else None
        if header is None:
            await self.app(scope, receive, send)
            return
        text = header.decode("latin-1")
        try:
            options = _options(text)
        except ValueError as error:
            body = json.dumps({"code": "invalid_argument", "message": f"X-Sandbox-Fault: {error}"}).encode()
            await _answer(send, 400, body, [])
            return
        with self._lock:
            key = options.get("id", text)
            self._seen[key] += 1
            active = self._seen[key] <= int(options.get("times") or 1)
        if not active:
            await self.app(scope, receive, send)
            return
        if "body-timeout" in options:
            scope.setdefault("state", {})["body_timeout"] = float(options["body-timeout"])
            await self.app(scope, receive, send)
            return
        if "delay" in options:
            await asyncio.sleep(float(options["delay"]))
            await self.app(scope, receive, send)
            return
        if "reset-after" in options:

            async def swallow(message: Message) -> None:
                pass

            await self.app(scope, receive, swallow)
        if "reset" in options or "reset-after" in options:
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
            await send({"type": "http.response.body", "body": b'{"metadata": {', "more_body": True})
            raise ConnectionResetError("fault injected: connection dropped mid-body")
        if "nonjson" in options or "truncated" in options:
            body = b"<html>gateway</html>" if "nonjson" in options else b'{"metadata": {"id": "apikey_01'
            await _answer(send, 200, body, [])
            return
        status = int(options.get("status", "500"))
        headers: list[tuple[bytes, bytes]] = []
        if "retry-after" in options:
            headers.append((b"retry-after", options["retry-after"].encode()))
        if "retry-after-ms" in options:
            headers.append((b"retry-after-ms", options["retry-after-ms"].encode()))
        if "retry-after-date" in options:
            when = email.utils.formatdate(time.time() + float(options["retry-after-date"]), usegmt=True)
            headers.append((b"retry-after", when.encode()))
        body = json.dumps({"code": _code(status), "message": f"injected {status}"}).encode()
        await _answer(send, status, body, headers)


def _options(header: str) -> dict[str, str]:
    """The options of an X-Sandbox-Fault header, checked; ValueError says what is wrong."""
    options: dict[str, str] = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if not name:
            continue
        if name not in _CHECKS:
            raise ValueError(f"unknown option {name!r}")
        if not _CHECKS[name](value):
            raise ValueError(f"{name}={value!r} is not a valid value")
        options[name] = value
    return options


def _number(low: float, high: float) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        try:
            number = float(value)
        except ValueError:
            return False
        return low <= number <= high

    return check


def _whole(low: int, high: int) -> Callable[[str], bool]:
    return lambda value: value.isdigit() and low <= int(value) <= high


_CHECKS: dict[str, Callable[[str], bool]] = {
    "id": lambda value: bool(value),
    "times": _whole(0, 1_000_000),
    "status": _whole(400, 599),
    "retry-after": _whole(0, 86_400),
    "retry-after-ms": _whole(0, 86_400_000),
    "retry-after-date": _number(-86_400, 86_400),
    "delay": _number(0, 60),
    "body-timeout": _number(0.01, 60),
    **dict.fromkeys(("reset", "reset-after", "nonjson", "truncated"), lambda value: value == ""),
}


def _code(status: int) -> str:
    """The error code the API documents for an injected status; a status it never answers gets `fault_injected`."""
    if status == 429:
        return "rate_limited"
    if status == 500:
        return "internal"
    return "unavailable" if status > 500 else "fault_injected"


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})
