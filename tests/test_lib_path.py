"""A path parameter is exactly one path segment: dot segments and empty ids are refused before anything is
sent, and every other value arrives as one segment that decodes back to exactly the value."""

from __future__ import annotations

import asyncio
import importlib
import re
import typing
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cadenya
from cadenya import AsyncCadenya, AuthenticatedClient, Cadenya, InvalidPathParameterError, NotFoundError
from cadenya.api.service_accounts import (
    create_service_account,
    delete_service_account_credential,
    get_service_account,
)
from cadenya.lib._path import check_no_dot_segments, path_segment
from cadenya.lib._send import send
from cadenya.models import CreateServiceAccountRequest, ServiceAccount
from scripts.resources import name_of
from tests.helpers import BASE_URL, TOKEN, load_spec, operation_module, operations, snake_case
from tests.sandbox_support import SandboxServer

REFUSED = ["", ".", "..", "%2e", "%2E", ".%2e", "%2e.", "%2E%2e", "%2e%2e"]
# Characters that mean something in a URL, and what is not ASCII: each must stay inside its segment.
AWKWARD = ["/", "a/b", "../x", "x/..", "?", "#", "%", "%2F", "%252e", "a b", "\r\n", "\x00", "é", "日本", "~", "+",
           ";", "=", "&", "...", ".a", "a."]  # fmt: skip
NOT_A_STRING: list[Any] = [None, 5, b"..", ["x"]]
PATH_PARAMETER = re.compile(r"{(\w+)}")
STYLES = ["sync", "sync_detailed", "asyncio", "asyncio_detailed", "resource", "async_resource"]


def _refused(value: str) -> bool:
    return value in ("", ".", "..") or unquote(value) in ("", ".", "..")


@pytest.mark.parametrize("value", [pytest.param(value, id=repr(value)) for value in REFUSED])
def test_an_empty_or_dot_segment_is_refused_naming_the_parameter(value: str) -> None:
    """`""`, `.`, `..` and what percent-decodes to them raise InvalidPathParameterError (a ValueError)."""
    with pytest.raises(InvalidPathParameterError) as refused:
        path_segment("workspace_id", value)
    assert refused.value.parameter == "workspace_id"
    assert isinstance(refused.value, ValueError) and isinstance(refused.value, cadenya.CadenyaError)
    assert "workspace_id" in str(refused.value)


@pytest.mark.parametrize("value", [pytest.param(value, id=repr(value)) for value in NOT_A_STRING])
def test_a_value_that_is_not_a_string_is_refused(value: Any) -> None:
    """An id is a string: None, numbers and bytes are refused, not sent as their repr."""
    with pytest.raises(InvalidPathParameterError, match="must be a str"):
        path_segment("api_key_id", value)


def test_a_lone_surrogate_is_refused() -> None:
    """Text UTF-8 cannot encode cannot arrive as the value it is: refused, typed."""
    with pytest.raises(InvalidPathParameterError, match="lone surrogate"):
        path_segment("api_key_id", "key\ud800")


@given(value=st.one_of(st.sampled_from(AWKWARD), st.text()))
@settings(max_examples=300, derandomize=True, deadline=None)
def test_any_other_value_is_one_segment_that_decodes_back(value: str) -> None:
    """Every value that is not refused is encoded whole: no `/`, `?` or `#` is left, and it decodes back."""
    if _refused(value):
        with pytest.raises(InvalidPathParameterError):
            path_segment("id", value)
        return
    encoded = path_segment("id", value)
    assert not set(encoded) & set("/?#")
    assert unquote(encoded, errors="strict") == value


def test_the_error_pickles_with_its_parameter() -> None:
    """The exception crosses a process boundary with its parameter and reason."""
    import pickle

    pickled = pickle.dumps(InvalidPathParameterError("api_key_id", "is '..', a dot segment"))
    error = pickle.loads(pickled)  # noqa: S301  (bytes this test made)
    assert (error.parameter, error.reason) == ("api_key_id", "is '..', a dot segment")


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/v1/api-keys/..", id="dotdot"),
        pytest.param("/v1/api-keys/./x", id="dot"),
        pytest.param("/v1/api-keys/%2e%2E", id="encoded"),
        pytest.param("/v1/api-keys/x/.%2e?y=1", id="mixed-before-query"),
    ],
)
def test_the_send_path_refuses_an_assembled_path_with_a_dot_segment(path: str) -> None:
    """Defence in depth: whatever built the path, a dot segment in it is refused before anything is sent."""
    sent: list[httpx.Request] = []
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN, httpx_args={"transport": _recording(sent)})
    with pytest.raises(InvalidPathParameterError) as refused:
        send(client, {"method": "get", "url": path})
    assert refused.value.parameter is None
    assert sent == []


@pytest.mark.parametrize("path", ["/v1/api-keys/a.b", "/v1/api-keys/...", "/v1/api-keys/a%2F..", "/v1/x?q=.."])
def test_dots_that_are_not_a_dot_segment_pass(path: str) -> None:
    """Dots inside a segment, three dots, or dots in the query are no dot segments."""
    check_no_dot_segments(path)


# --- every operation, every path parameter, every call style ----------------------------------------


def _recording(sent: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(404, json={"code": "not_found", "message": "no such thing"})

    return httpx.MockTransport(handler)


def _body(module: Any) -> Any:
    """A minimal request body for an operation that takes one: its required `name`, if it has one."""
    model = typing.get_type_hints(module._get_kwargs)["body"]
    fields = {field.name for field in model.__attrs_attrs__}
    return model(name="n") if "name" in fields and "name" in model.__init__.__code__.co_varnames else model()


def _path_parameters() -> list[tuple[str, str, str, str]]:
    """(tag, operationId, path, python name of one path parameter) for every path parameter of the spec."""
    found = []
    for _, path, operation in operations(load_spec()):
        for parameter in PATH_PARAMETER.findall(path):
            found.append((operation["tags"][0], operation["operationId"], path, snake_case(parameter)))
    return found


PARAMETERS = _path_parameters()


def _call(style: str, tag: str, operation_id: str, arguments: dict[str, Any], sent: list[httpx.Request]) -> None:
    """Call the operation in `style` with `arguments`; a 404 answer is expected and swallowed."""
    module = operation_module({"tags": [tag], "operationId": operation_id})
    if "body" in typing.get_type_hints(module._get_kwargs):
        arguments = {**arguments, "body": _body(module)}
    client = AuthenticatedClient(
        base_url=BASE_URL, token=TOKEN, max_retries=0, httpx_args={"transport": _recording(sent)}
    )
    if style in ("sync", "sync_detailed"):
        getattr(module, style)(client=client, **arguments)
    elif style in ("asyncio", "asyncio_detailed"):
        asyncio.run(getattr(module, style)(client=client, **arguments))
    else:
        _call_resource(style, tag, module, arguments, client)


def _call_resource(style: str, tag: str, module: Any, arguments: dict[str, Any], client: AuthenticatedClient) -> None:
    child, method_name = name_of(tag, module.__name__.rsplit(".", 1)[1])
    root: Any = Cadenya(client=client) if style == "resource" else AsyncCadenya(client=client)
    resource = getattr(getattr(root, tag), child) if child else getattr(root, tag)
    method: Callable[..., Any] = getattr(resource, method_name)
    positional = [arguments.pop(snake_case(name)) for name in PATH_PARAMETER.findall(_PATHS[module.__name__])]

    async def run() -> None:
        await method(*positional, **arguments)

    # A list method fetches its first page at once (sync) or when awaited (async): the 404 raises either way.
    with pytest.raises(NotFoundError):
        method(*positional, **arguments) if style == "resource" else asyncio.run(run())


_PATHS = {operation_module(operation).__name__: path for _, path, operation in operations(load_spec())}


@pytest.mark.parametrize("style", STYLES)
@given(
    case=st.sampled_from(PARAMETERS),
    value=st.one_of(st.sampled_from(REFUSED + AWKWARD), st.text(max_size=12)),
)
@settings(max_examples=120, derandomize=True, deadline=None)
def test_every_path_parameter_is_one_segment_in_every_call_style(
    style: str, case: tuple[str, str, str, str], value: str
) -> None:
    """Each operation's each path parameter: refused values send nothing; others are exactly one segment."""
    tag, operation_id, path, under_test = case
    names = [snake_case(name) for name in PATH_PARAMETER.findall(path)]
    arguments = {name: (value if name == under_test else f"id_{name}") for name in names}
    sent: list[httpx.Request] = []
    if _refused(value):
        with pytest.raises(InvalidPathParameterError) as refused:
            _call(style, tag, operation_id, dict(arguments), sent)
        assert refused.value.parameter == under_test
        assert sent == []
        return
    _call(style, tag, operation_id, dict(arguments), sent)
    assert len(sent) == 1
    raw_segments = sent[0].url.raw_path.decode("ascii").partition("?")[0].split("/")
    template_segments = path.split("/")
    assert len(raw_segments) == len(template_segments)
    for raw, template in zip(raw_segments, template_segments, strict=True):
        match = PATH_PARAMETER.fullmatch(template)
        expected = template if match is None else arguments[snake_case(match.group(1))]
        assert unquote(raw, errors="strict") == expected


# --- against the sandbox -----------------------------------------------------------------------------


def test_a_dot_dot_credential_id_deletes_nothing(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """`delete_service_account_credential(org, sa, "..")` is refused; the service account is still there."""
    client = AuthenticatedClient(base_url=sandbox.base_url, token=account["apiKey"])
    organization = account["accountId"]
    with client:
        created = create_service_account.sync(organization, client=client, body=CreateServiceAccountRequest(name="ci"))
        assert isinstance(created, ServiceAccount)
        with pytest.raises(InvalidPathParameterError):
            delete_service_account_credential.sync_detailed(organization, created.id, "..", client=client)
        assert isinstance(get_service_account.sync(organization, created.id, client=client), ServiceAccount)


def test_an_empty_id_is_refused_by_the_resource_client(sandbox: SandboxServer, account: dict[str, str]) -> None:
    """`client.api_keys.get("")` raises InvalidPathParameterError naming api_key_id, without a request."""
    client = Cadenya(token=account["apiKey"], base_url=sandbox.base_url)
    with client, pytest.raises(InvalidPathParameterError) as refused:
        client.api_keys.get("")
    assert refused.value.parameter == "api_key_id"


def test_the_public_error_is_exported() -> None:
    """The error is importable from the package, as every other SDK exception."""
    assert importlib.import_module("cadenya").InvalidPathParameterError is InvalidPathParameterError
