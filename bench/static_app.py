"""A minimal ASGI app answering every GET with one fixed APIKey: isolates the client's own cost.

python -m bench.static_app PORT
"""

from __future__ import annotations

import json
import sys
from typing import Any

import uvicorn

from bench.data import api_key

BODY = json.dumps(api_key(0)).encode()
HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
    (b"x-request-id", b"req_static"),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
