"""The SDK over httpx or httpx2 (cadenya/lib/_http.py): the same behaviour whichever library a client is of."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

import cadenya
from cadenya import AuthenticatedClient
from cadenya.api.api_keys import get_api_key, list_api_keys
from cadenya.lib import _http
from cadenya.models import APIKey, Error
from tests.helpers import BASE_URL, HTTPX2, NEEDS_HTTPX, NEEDS_HTTPX2, TOKEN, load_spec
from tests.sandbox_support import SandboxServer

httpx2 = HTTPX2
LIBRARIES = [pytest.param(httpx, id="httpx"), pytest.param(httpx2, id="httpx2", marks=NEEDS_HTTPX2)]
KEY_ID = "apikey_01JD7Z3M5W8Q2R4T6Y8U0I2O4P"
KEY = load_spec()["paths"]["/v1/api-keys/{apiKeyId}"]["get"]["responses"]["200"]["content"]["application/json"][
    "example"
]
PAGE = {"items": [KEY], "nextPageToken": ""}
Handler = Callable[[Any], Any]


def client_over(library: ModuleType, handler: Handler, **options: Any) -> AuthenticatedClient:
    """A client sending through `library`'s own Client, given as http_client=, answered by `handler`."""
    http = library.Client(base_url=BASE_URL, transport=library.MockTransport(handler))
    return AuthenticatedClient(base_url=BASE_URL, token=TOKEN, http_client=http, **options)


def async_client_over(library: ModuleType, handler: Handler, **options: Any) -> AuthenticatedClient:
    http = library.AsyncClient(base_url=BASE_URL, transport=library.MockTransport(handler))
    return AuthenticatedClient(base_url=BASE_URL, token=TOKEN, http_client=http, **options)


@pytest.mark.parametrize("library", LIBRARIES)
def test_the_library_of_a_client_is_the_one_its_class_comes_from(library: ModuleType) -> None:
    """library_of names the library of a client, and of a subclass of one."""

    class Mine(library.Client):  # type: ignore[misc, name-defined]
        pass

    with library.Client() as plain, Mine() as derived:
        assert _http.library_of(plain).module is library
        assert _http.library_of(derived).module is library


def test_an_object_of_neither_library_is_refused_as_http_client() -> None:
    """http_client= of something else is a ConfigurationError naming what was given, before any request."""
    with pytest.raises(cadenya.ConfigurationError, match="httpx or httpx2"):
        AuthenticatedClient(base_url=BASE_URL, token=TOKEN, http_client=object())  # type: ignore[arg-type]


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_call_goes_through_the_given_client_of_either_library(library: ModuleType) -> None:
    """The request is one of the given client's library, built by its build_request, with its own headers."""
    seen: list[Any] = []

    def answer(request: Any) -> Any:
        seen.append(request)
        return library.Response(200, json=KEY, headers={"x-request-id": "req_1"})

    http = library.Client(base_url=BASE_URL, transport=library.MockTransport(answer), headers={"X-Mine": "1"})
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN, http_client=http)
    result = get_api_key.sync_detailed(KEY_ID, client=client)
    assert isinstance(result.parsed, APIKey)
    assert result.request_id == "req_1"
    assert isinstance(seen[0], library.Request)
    assert seen[0].headers["X-Mine"] == "1"
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    http.close()


@pytest.mark.parametrize("library", LIBRARIES)
def test_the_given_clients_event_hooks_see_every_attempt(library: ModuleType) -> None:
    """A client's request hooks run for each attempt the SDK makes, as for any request of that client."""
    hooked: list[str] = []
    answers = iter([library.Response(503), library.Response(200, json=KEY)])
    http = library.Client(
        base_url=BASE_URL,
        transport=library.MockTransport(lambda request: next(answers)),
        event_hooks={"request": [lambda request: hooked.append(request.method)]},
    )
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN, http_client=http, max_retries=1)
    client = client.with_options(deadline=30)
    assert isinstance(get_api_key.sync(KEY_ID, client=client), APIKey)
    assert hooked == ["GET", "GET"]
    http.close()


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("style", ["sync", "async"])
def test_retries_follow_the_servers_wait_over_either_library(library: ModuleType, style: str) -> None:
    """A 503 with Retry-After is retried, and the second answer is the one returned."""
    answers = iter([library.Response(503, headers={"retry-after-ms": "1"}), library.Response(200, json=KEY)])

    def answer(request: Any) -> Any:
        return next(answers)

    if style == "sync":
        result: Any = get_api_key.sync(KEY_ID, client=client_over(library, answer))
    else:
        result = asyncio.run(get_api_key.asyncio(KEY_ID, client=async_client_over(library, answer)))
    assert isinstance(result, APIKey)


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_connection_failure_of_either_library_is_an_api_connection_error(library: ModuleType) -> None:
    """The library's ConnectError, after every retry, is cadenya's APIConnectionError, chained to it."""

    def refuse(request: Any) -> Any:
        raise library.ConnectError("refused", request=request)

    with pytest.raises(cadenya.APIConnectionError, match=r"failed \(ConnectError\) after 1 retry$") as raised:
        get_api_key.sync(KEY_ID, client=client_over(library, refuse, max_retries=1).with_options(deadline=30))
    assert isinstance(raised.value.__cause__, library.ConnectError)


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_timeout_of_either_library_is_an_api_timeout_error(library: ModuleType) -> None:
    """The library's ReadTimeout is cadenya's APITimeoutError."""

    def stall(request: Any) -> Any:
        raise library.ReadTimeout("slow", request=request)

    with pytest.raises(cadenya.APITimeoutError, match="timed out"):
        get_api_key.sync(KEY_ID, client=client_over(library, stall, max_retries=0))


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_body_over_the_limit_is_refused_over_either_library(library: ModuleType) -> None:
    """max_response_bytes holds whatever the library: a larger body is a ResponseTooLargeError."""
    client = client_over(library, lambda request: library.Response(200, content=b"x" * 2048), max_response_bytes=1024)
    with pytest.raises(cadenya.ResponseTooLargeError):
        get_api_key.sync(KEY_ID, client=client)


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_compressed_body_is_read_decoded_over_either_library(library: ModuleType) -> None:
    """A gzip answer is decoded; the response the SDK returns holds the decoded body and claims no encoding."""
    import gzip

    body = json.dumps(KEY).encode()

    def answer(request: Any) -> Any:
        return library.Response(200, content=gzip.compress(body), headers={"content-encoding": "gzip"})

    result = get_api_key.sync_detailed(KEY_ID, client=client_over(library, answer))
    assert result.content == body
    assert isinstance(result.parsed, APIKey)
    assert "content-encoding" not in result.headers
    assert result.headers["content-length"] == str(len(body))


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_redirect_to_another_host_drops_the_credential_over_either_library(library: ModuleType) -> None:
    """Followed redirects keep the token on the API's host and drop it on another, whatever the library."""
    seen: list[Any] = []

    def answer(request: Any) -> Any:
        seen.append(request)
        if request.url.host == "api.test.cadenya.invalid":
            return library.Response(307, headers={"location": f"https://elsewhere.invalid/v1/api-keys/{KEY_ID}"})
        return library.Response(200, json=KEY)

    client = client_over(library, answer, follow_redirects=True)
    assert isinstance(get_api_key.sync(KEY_ID, client=client), APIKey)
    assert "Authorization" in seen[0].headers
    assert "Authorization" not in seen[1].headers


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_documented_error_is_typed_over_either_library(library: ModuleType) -> None:
    """A 404 is the spec's Error as the answer, and cadenya.NotFoundError through unwrap."""
    body = {"code": "not_found", "message": "no such key"}
    client = client_over(library, lambda request: library.Response(404, json=body))
    answer = get_api_key.sync(KEY_ID, client=client)
    assert isinstance(answer, Error)
    with pytest.raises(cadenya.NotFoundError):
        cadenya.unwrap(get_api_key.sync_detailed(KEY_ID, client=client))


@pytest.mark.parametrize("library", LIBRARIES)
def test_pagination_walks_every_page_over_either_library(library: ModuleType) -> None:
    """The resource client's iteration fetches each page through the given client."""
    second = {**KEY, "metadata": {**KEY["metadata"], "id": "apikey_second"}}
    pages = {"": {"items": [KEY], "nextPageToken": "t2"}, "t2": {"items": [second], "nextPageToken": ""}}

    def answer(request: Any) -> Any:
        return library.Response(200, json=pages[request.url.params.get("pageToken", "")])

    http = library.Client(base_url=BASE_URL, transport=library.MockTransport(answer))
    with cadenya.Cadenya(base_url=BASE_URL, token=TOKEN, http_client=http) as api:
        ids = [key.metadata.id for key in api.api_keys.list()]
    assert ids == [KEY["metadata"]["id"], "apikey_second"]
    assert not http.is_closed
    http.close()


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_call_is_logged_the_same_over_either_library(library: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    """The INFO line names the method, path, status and request id, with no credential."""
    client = client_over(library, lambda request: library.Response(200, json=PAGE, headers={"x-request-id": "r9"}))
    with caplog.at_level(logging.INFO, logger="cadenya"):
        list_api_keys.sync(client=client)
    line = next(record.getMessage() for record in caplog.records if record.name == "cadenya")
    assert line.startswith("GET /v1/api-keys -> 200 in ")
    assert "request id r9" in line
    assert TOKEN not in caplog.text


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_timeout_of_either_library_is_taken(library: ModuleType) -> None:
    """timeout= of either library's Timeout is kept, as the default library's, with the same limits."""
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN, timeout=library.Timeout(7.0, connect=2.0))
    assert client.timeout.as_dict() == {"connect": 2.0, "read": 7.0, "write": 7.0, "pool": 7.0}


def test_an_unknown_library_in_the_environment_is_refused() -> None:
    """$CADENYA_HTTP_LIBRARY naming neither library is a ConfigurationError at import, naming the variable."""
    environment = {**os.environ, "CADENYA_HTTP_LIBRARY": "requests"}
    run = subprocess.run(
        [sys.executable, "-c", "import cadenya"], env=environment, capture_output=True, text=True, timeout=60
    )
    assert run.returncode != 0
    assert "CADENYA_HTTP_LIBRARY must be one of httpx, httpx2" in run.stderr


# A program that cannot import httpx, as in a venv without it: it uses the SDK against the sandbox.
WITHOUT_HTTPX = """
import importlib.abc, sys

class NoHttpx(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "httpx" or name.startswith("httpx.") or name == "httpcore" or name.startswith("httpcore."):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, NoHttpx())
"""

CALLS = """
import asyncio, json, sys
import cadenya
from cadenya import AuthenticatedClient, Cadenya, AsyncCadenya
from cadenya.api.api_keys import list_api_keys
from cadenya.lib._http import default_library

base_url, token = sys.argv[1], sys.argv[2]
client = AuthenticatedClient(base_url=base_url, token=token)
assert list_api_keys.sync_detailed(client=client).status_code == 200
assert list_api_keys.sync(client=client).items
with Cadenya(base_url=base_url, token=token) as api:
    keys = [key.metadata.id for key in api.api_keys.list()]

async def main():
    assert (await list_api_keys.asyncio_detailed(client=client)).status_code == 200
    async with AsyncCadenya(base_url=base_url, token=token) as api:
        return [key.metadata.id async for key in api.api_keys.list()]

assert asyncio.run(main()) == keys
try:
    cadenya.unwrap(list_api_keys.sync_detailed(client=AuthenticatedClient(base_url=base_url, token="cad_wrong")))
except cadenya.AuthenticationError:
    pass
print(json.dumps({"library": default_library().name, "loaded": sorted(name for name in sys.modules if name.split(".")[0] in ("httpx", "httpcore", "httpx2", "httpcore2"))}))
"""


def run_program(code: str, *args: str, **environment: str) -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result: dict[str, Any] = json.loads(run.stdout.splitlines()[-1])
    return result


@NEEDS_HTTPX2
def test_without_httpx_the_sdk_runs_over_httpx2_and_never_imports_httpx(
    sandbox: SandboxServer, account: dict[str, str]
) -> None:
    """Where httpx cannot be imported, every call style works over httpx2, and httpx is never imported."""
    environment = {key: value for key, value in os.environ.items() if key != "CADENYA_HTTP_LIBRARY"}
    run = subprocess.run(
        [sys.executable, "-c", WITHOUT_HTTPX + CALLS, sandbox.base_url, account["apiKey"]],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.splitlines()[-1])
    assert result["library"] == "httpx2"
    assert not [name for name in result["loaded"] if name.split(".")[0] in ("httpx", "httpcore")]


@NEEDS_HTTPX2
def test_the_environment_chooses_httpx2_where_both_are_installed(
    sandbox: SandboxServer, account: dict[str, str]
) -> None:
    """With $CADENYA_HTTP_LIBRARY=httpx2, the SDK's own clients are httpx2's and httpx is not imported."""
    result = run_program(CALLS, sandbox.base_url, account["apiKey"], CADENYA_HTTP_LIBRARY="httpx2")
    assert result["library"] == "httpx2"
    assert "httpx" not in result["loaded"]


@NEEDS_HTTPX2
def test_the_sandbox_runs_without_httpx(tmp_path: Any) -> None:
    """`python -m cadenya.sandbox` and its in-process test double start and answer where httpx cannot be imported."""
    code = WITHOUT_HTTPX + textwrap.dedent(
        """
        import json, sys
        from cadenya.sandbox import Sandbox
        with Sandbox(in_process=True) as sandbox:
            account = sandbox.new_account("no httpx")
            with sandbox.client(account) as api:
                assert api.account.get() is not None
        print(json.dumps({"loaded": sorted(name for name in sys.modules if name.split(".")[0] == "httpx")}))
        """
    )
    assert run_program(code)["loaded"] == []


@pytest.mark.parametrize(
    ("option", "value"),
    [
        pytest.param("proxy", "http://127.0.0.1:9", id="proxy"),
        pytest.param("verify", False, id="verify"),
        pytest.param("limits", httpx.Limits(max_connections=1), id="limits"),
        pytest.param("trust_env", False, id="trust_env"),
        pytest.param("httpx_args", {"max_redirects": 3}, id="httpx_args"),
    ],
)
def test_an_option_of_the_sdks_own_client_beside_yours_is_refused(option: str, value: Any) -> None:
    """With http_client=, an option that only configures a client the SDK makes is an error, not ignored."""
    with (
        httpx.Client() as http,
        pytest.raises(cadenya.ConfigurationError, match=f"{option}=: options of the HTTP client the SDK makes"),
    ):
        cadenya.Cadenya(base_url=BASE_URL, token=TOKEN, http_client=http, **{option: value})


def test_a_missing_ca_bundle_is_refused_when_the_client_is_made(tmp_path: Any) -> None:
    """verify= naming no file is a ConfigurationError at once, not a FileNotFoundError at the first call."""
    with pytest.raises(cadenya.ConfigurationError, match="neither a file nor a directory"):
        AuthenticatedClient(base_url=BASE_URL, token=TOKEN, verify=str(tmp_path / "missing.pem"))


def test_an_unreadable_client_certificate_is_refused_when_the_client_is_made(tmp_path: Any) -> None:
    """cert= of a file that is no certificate is a ConfigurationError naming the kind of failure only."""
    bogus = tmp_path / "client.pem"
    bogus.write_text("not a certificate")
    with pytest.raises(cadenya.ConfigurationError, match=r"could not be loaded \(SSLError\)") as raised:
        AuthenticatedClient(base_url=BASE_URL, token=TOKEN, cert=(str(bogus), str(bogus), "s3cret"))
    assert "s3cret" not in str(raised.value)


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_transport_in_httpx_args_decides_the_library_of_the_clients_made(library: ModuleType) -> None:
    """A transport of either library in httpx_args gets a client of that library, whatever the default."""
    transport = library.MockTransport(lambda request: library.Response(200, json=KEY))
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN, httpx_args={"transport": transport})
    assert isinstance(get_api_key.sync(KEY_ID, client=client), APIKey)
    assert isinstance(client.get_httpx_client(), library.Client)
    client.get_httpx_client().close()


def _private_attributes_of(folder: Path) -> set[str]:
    """Every `_name` the modules under `folder` use on their own objects (`self._name`)."""
    import ast

    names: set[str] = set()
    for source in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                names.add(node.attr)
    return names


@NEEDS_HTTPX2
def test_the_sdk_reads_or_writes_no_private_attribute_of_either_library() -> None:
    """No module of the package touches, on another object, a private attribute httpx or httpx2 defines (one
    of the same name as the package's own private attributes aside)."""
    import ast

    package = Path(cadenya.__file__).parent
    libraries = {
        name for library in (httpx, httpx2) for name in _private_attributes_of(Path(str(library.__file__)).parent)
    }
    private = libraries - _private_attributes_of(package)
    assert "_content" in private  # what reading a body by hand would write
    touched = []
    for source in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in private
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                touched.append(f"{source.relative_to(package)}:{node.lineno} .{node.attr}")
    assert touched == []


WITHOUT_HTTPX2 = (
    WITHOUT_HTTPX.replace('"httpx"', '"httpx2"')
    .replace('"httpx."', '"httpx2."')
    .replace('"httpcore"', '"httpcore2"')
    .replace('"httpcore."', '"httpcore2."')
)


@NEEDS_HTTPX
def test_with_httpx_alone_the_sdk_never_imports_httpx2(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """Where httpx2 cannot be imported (httpx alone, as most installs), every call style works over httpx."""
    environment = {key: value for key, value in os.environ.items() if key != "CADENYA_HTTP_LIBRARY"}
    # The real httpx: without the alias the httpx2 cells of the matrix put on PYTHONPATH.
    paths = environment.get("PYTHONPATH", "").split(os.pathsep)
    environment["PYTHONPATH"] = os.pathsep.join(path for path in paths if not path.endswith("httpx2_alias"))
    run = subprocess.run(
        [sys.executable, "-c", WITHOUT_HTTPX2 + CALLS, sandbox.base_url, account["apiKey"]],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.splitlines()[-1])
    assert result["library"] == "httpx"
    assert not [name for name in result["loaded"] if name.split(".")[0] in ("httpx2", "httpcore2")]


@pytest.mark.parametrize("given", ["sync", "async"])
def test_a_client_given_one_kind_refuses_calls_of_the_other(given: str) -> None:
    """With http_client= of one kind, a call of the other is a ConfigurationError naming the fix, not a call
    over a client the SDK made without your transport, proxies or certificates."""
    seen: list[Any] = []

    def answer(request: Any) -> Any:
        seen.append(request)
        return httpx.Response(200, json=KEY)

    if given == "sync":
        client = client_over(httpx, answer)
        with pytest.raises(
            cadenya.ConfigurationError, match=r"give it an AsyncClient too, with set_async_httpx_client"
        ):
            asyncio.run(get_api_key.asyncio(KEY_ID, client=client))
    else:
        client = async_client_over(httpx, answer)
        with pytest.raises(cadenya.ConfigurationError, match=r"give it a Client too, with set_httpx_client"):
            get_api_key.sync(KEY_ID, client=client)
    assert seen == []
