"""Response bodies are parsed by cadenya.lib._json: orjson when installed, the standard library otherwise."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import httpx
import pytest

import cadenya
from cadenya.api.api_keys import get_api_key, list_api_keys
from cadenya.lib import _json
from cadenya.models import APIKey, ListAPIKeysResponse
from tests.helpers import client_for, load_spec

KEY_ID = "apikey_01JD7Z3M5W8Q2R4T6Y8U0I2O4P"
KEY = load_spec()["paths"]["/v1/api-keys/{apiKeyId}"]["get"]["responses"]["200"]["content"]["application/json"][
    "example"
]
SECRET = "cad_key_0123456789abcdefghijklmnopqrstuv"
DEEP = b"[" * 100_000 + b"]" * 100_000

PARSERS = [pytest.param(_json.loads_orjson, id="orjson"), pytest.param(_json.loads_stdlib, id="stdlib")]


@pytest.fixture(params=["orjson", "stdlib"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every generated operation parses with this parser: as with the speedups extra, or without it."""
    monkeypatch.setattr(_json, "_parser", _json.loads_orjson if request.param == "orjson" else _json.loads_stdlib)
    return str(request.param)


def get_key(style: str, response: httpx.Response) -> Any:
    client = client_for(lambda request: response)
    if style == "sync":
        return get_api_key.sync_detailed(KEY_ID, client=client)
    return asyncio.run(get_api_key.asyncio_detailed(KEY_ID, client=client))


def test_orjson_is_used_when_installed() -> None:
    """The dev environment has the speedups extra, so bodies are parsed by orjson."""
    assert _json.speedups()
    assert _json.parser() is _json.loads_orjson


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(json.dumps(KEY).encode(), id="key"),
        pytest.param(b'{"a": NaN, "b": Infinity, "c": -Infinity}', id="non-finite"),
        pytest.param(b'{"u64": 18446744073709551615, "i64": -9223372036854775808}', id="64-bit-integers"),
        pytest.param(b'\xef\xbb\xbf{"bom": true}', id="utf8-bom"),
        pytest.param('{"text": "caf\u00e9"}'.encode("utf-16"), id="utf16"),
        pytest.param(b'{"lone": "\\ud800"}', id="lone-surrogate"),
        pytest.param(b'{"twice": 1, "twice": 2}', id="duplicate-key"),
        pytest.param(b'{"f": 0.1, "g": 1e400, "h": 5e-324}', id="floats"),
        pytest.param('{"text": "caf\u00e9"}', id="str"),
    ],
)
def test_both_parsers_give_the_same_values(body: bytes | str) -> None:
    """What the standard library accepts, orjson's path parses to the same values (repr, since NaN != NaN)."""
    assert repr(_json.loads_orjson(body)) == repr(_json.loads_stdlib(body))


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<html>gateway</html>", id="not-json"),
        pytest.param(json.dumps({"token": SECRET}).encode()[:30], id="truncated"),
        pytest.param(b"", id="empty"),
        pytest.param(DEEP, id="deeply-nested"),
    ],
)
def test_unparseable_bodies_raise_json_decode_error(parse: _json.Parser, body: bytes) -> None:
    """Not JSON, cut short, empty or nested too deeply: a JSONDecodeError (a ValueError) quoting no body."""
    with pytest.raises(json.JSONDecodeError) as raised:
        parse(body)
    assert SECRET[:20] not in str(raised.value)


@pytest.mark.parametrize("style", ["sync", "asyncio"])
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<html>gateway</html>", id="not-json"),
        pytest.param(json.dumps(KEY).encode()[:40], id="truncated"),
        pytest.param(DEEP, id="deeply-nested"),
    ],
)
def test_an_unparseable_success_body_raises_response_validation_error(parser: str, style: str, body: bytes) -> None:
    """A 200 that does not parse is a ResponseValidationError naming the operation, with either parser."""
    with pytest.raises(cadenya.ResponseValidationError) as raised:
        get_key(style, httpx.Response(200, content=body, headers={"X-Request-Id": "req_bad"}))
    assert raised.value.operation == "get_api_key"
    assert "req_bad" in str(raised.value)


@pytest.mark.parametrize("style", ["sync", "asyncio"])
def test_a_success_body_parses_into_the_model(parser: str, style: str) -> None:
    """The documented example parses into APIKey with either parser."""
    response = get_key(style, httpx.Response(200, json=KEY))
    assert response.parsed == APIKey.from_dict(KEY)


def test_an_error_body_that_does_not_parse_gives_parsed_none(parser: str) -> None:
    """An error status with a body nested too deeply to parse keeps the status and gives parsed=None."""
    client = client_for(lambda request: httpx.Response(503, content=DEEP), max_retries=0)
    response = list_api_keys.sync_detailed(client=client)
    assert response.status_code == 503
    assert response.parsed is None


def test_without_orjson_the_standard_library_parses() -> None:
    """With orjson not importable, the client parses bodies with the standard library, to the same models."""
    script = f"""
import sys
sys.modules["orjson"] = None  # as if the speedups extra were not installed
import httpx
from cadenya import AuthenticatedClient
from cadenya.api.api_keys import get_api_key
from cadenya.lib import _json
from cadenya.models import APIKey
key = {KEY!r}
client = AuthenticatedClient(base_url="https://api.test", token="t",
                             httpx_args={{"transport": httpx.MockTransport(lambda request: httpx.Response(200, json=key))}})
assert get_api_key.sync_detailed("apikey_1", client=client).parsed == APIKey.from_dict(key)
assert not _json.speedups() and _json.parser() is _json.loads_stdlib
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert result.stdout == "ok\n", result.stderr


def test_importing_the_package_does_not_import_orjson() -> None:
    """orjson is imported on the first parse, not with the package: its import costs more than a call."""
    script = "import sys, cadenya, cadenya.api.api_keys.get_api_key, cadenya.models; print('orjson' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert result.stdout == "False\n", result.stderr


def test_a_page_decodes_the_same_with_either_parser() -> None:
    """A list page through orjson and through the standard library gives equal models."""
    body = json.dumps({"items": [KEY, KEY], "nextPageToken": "t"}).encode()
    assert ListAPIKeysResponse.from_dict(_json.loads_orjson(body)) == ListAPIKeysResponse.from_dict(
        _json.loads_stdlib(body)
    )
