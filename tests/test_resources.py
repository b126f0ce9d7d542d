"""The resource layer: names follow the spec by one rule, sync and async mirror each other, methods take
keywords or request models, return models, raise typed errors, page by themselves, and pass per-call options."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import cadenya
from cadenya import AsyncCadenya, AuthenticatedClient, Cadenya, PageRepeatedError
from cadenya.lib._resource import AsyncPage, AsyncPager, SyncPage
from cadenya.models import APIKey, APIKeyWithToken, CreateAPIKeyRequest, Workspace
from cadenya.types import Response
from scripts.resources import name_of
from tests.helpers import BASE_URL, TOKEN, load_spec, operation_module, operations

Handler = Callable[[httpx.Request], httpx.Response]
KEY: dict[str, Any] = {
    "metadata": {"id": "apikey_1", "accountId": "acct_1", "name": "ci", "profileId": "prof_1"},
    "spec": {"system": False},
    "info": {"workspacesPreview": [], "workspacesTotal": 0},
}
CREATED: dict[str, Any] = {**KEY, "spec": {"token": "cad_key_" + "a" * 36, "system": False}}


def _client(handler: Handler, **options: Any) -> Cadenya:
    transport = httpx.MockTransport(handler)
    return Cadenya(
        client=AuthenticatedClient(base_url=BASE_URL, token=TOKEN, httpx_args={"transport": transport}, **options)
    )


def _async_client(handler: Handler) -> AsyncCadenya:
    transport = httpx.MockTransport(handler)
    return AsyncCadenya(client=AuthenticatedClient(base_url=BASE_URL, token=TOKEN, httpx_args={"transport": transport}))


class Recorder:
    """A handler that answers each request in turn and keeps what it was sent."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def _resource_of(client: Any, tag: str, operation_id: str) -> tuple[Any, str]:
    child, method = name_of(tag, operation_module_name(tag, operation_id))
    resource = getattr(client, tag)
    return (getattr(resource, child) if child else resource), method


def operation_module_name(tag: str, operation_id: str) -> str:
    return operation_module({"tags": [tag], "operationId": operation_id}).__name__.rsplit(".", 1)[1]


def _every_operation() -> list[Any]:
    return [
        pytest.param(op["tags"][0], op["operationId"], id=op["operationId"]) for _, _, op in operations(load_spec())
    ]


OPTIONS = {"timeout", "max_retries", "extra_headers", "extra_query", "extra_body"}


@pytest.mark.parametrize(("tag", "operation_id"), _every_operation())
def test_every_operation_is_a_resource_method_with_the_functions_parameters(tag: str, operation_id: str) -> None:
    """Each operation is reachable by the naming rule, taking the function's parameters plus the per-call options."""
    client = Cadenya(client=AuthenticatedClient(base_url=BASE_URL, token=TOKEN))
    resource, method_name = _resource_of(client, tag, operation_id)
    method = getattr(resource, method_name)
    function = operation_module({"tags": [tag], "operationId": operation_id}).sync_detailed
    wanted = set(inspect.signature(function).parameters) - {"client"} | OPTIONS
    have = set(inspect.signature(method).parameters)
    body = inspect.signature(function).parameters.get("body")
    if body is not None:  # the body's fields as keywords, or body= itself
        model = body.annotation
        wanted |= {field for field in inspect.signature(model).parameters}
    assert have == wanted


@pytest.mark.parametrize(
    ("tag", "operation_id", "path"),
    [
        pytest.param("api_keys", "create_api_key", (None, "create"), id="own-noun"),
        pytest.param("api_keys", "list_api_keys", (None, "list"), id="plural-noun"),
        pytest.param("api_keys", "list_api_key_workspaces", ("workspaces", "list"), id="sub-resource"),
        pytest.param(
            "service_accounts", "create_service_account_credential", ("credentials", "create"), id="singular-sub"
        ),
        pytest.param("account", "rotate_webhook_secret", (None, "rotate_webhook_secret"), id="other-noun"),
    ],
)
def test_the_naming_rule(tag: str, operation_id: str, path: tuple[str | None, str]) -> None:
    """The rule the README states, on each of its cases."""
    assert name_of(tag, operation_id) == path


def _classes(root: type) -> Iterator[tuple[str, type]]:
    client = root(client=AuthenticatedClient(base_url=BASE_URL, token=TOKEN))
    pending = [(name, value) for name, value in vars(client).items() if not name.startswith("_")]
    while pending:
        path, resource = pending.pop(0)
        yield path, type(resource)
        pending += [(f"{path}.{n}", v) for n, v in vars(resource).items() if not n.startswith("_")]


def test_sync_and_async_resources_mirror_each_other_method_for_method() -> None:
    """Same resources, same methods, same parameters; async methods are coroutines, lists return an AsyncPager."""
    sync, asynchronous = dict(_classes(Cadenya)), dict(_classes(AsyncCadenya))
    assert sync.keys() == asynchronous.keys()
    for path, sync_class in sync.items():
        async_class = asynchronous[path]
        assert async_class.__name__ == "Async" + sync_class.__name__
        methods = {name for name, member in vars(sync_class).items() if callable(member) and not name.startswith("_")}
        assert methods == {n for n, m in vars(async_class).items() if callable(m) and not n.startswith("_")}
        for name in methods:
            sync_method, async_method = getattr(sync_class, name), getattr(async_class, name)
            assert inspect.signature(sync_method).parameters == inspect.signature(async_method).parameters
            returns = str(inspect.signature(async_method).return_annotation)
            assert inspect.iscoroutinefunction(async_method) != returns.startswith("AsyncPager")


def test_create_takes_keywords_including_a_plain_dict_of_labels() -> None:
    """Keyword arguments typed from the spec build the request; labels may be a plain dict."""
    recorder = Recorder(httpx.Response(201, json=CREATED))
    key = _client(recorder).api_keys.create(name="ci", revealable=True, labels={"env": "prod"})
    assert isinstance(key, APIKeyWithToken)
    assert key.spec.token == CREATED["spec"]["token"]
    assert recorder.body() == {"name": "ci", "revealable": True, "labels": {"env": "prod"}}


def test_create_still_takes_the_request_model() -> None:
    """body= sends the model as is."""
    recorder = Recorder(httpx.Response(201, json=CREATED))
    _client(recorder).api_keys.create(body=CreateAPIKeyRequest(name="ci", labels={"team": "platform"}))
    assert recorder.body() == {"name": "ci", "labels": {"team": "platform"}}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({}, "needs name", id="required-field-missing"),
        pytest.param({"body": CreateAPIKeyRequest(name="ci"), "name": "again"}, "not both", id="body-and-fields"),
    ],
)
def test_a_body_given_wrongly_is_refused_before_any_request(arguments: dict[str, Any], message: str) -> None:
    """A missing required field, or a body together with its fields, is a TypeError, with nothing sent."""
    recorder = Recorder(httpx.Response(201, json=CREATED))
    with pytest.raises(TypeError, match=message):
        _client(recorder).api_keys.create(**arguments)
    assert recorder.requests == []


def test_a_no_content_operation_returns_none() -> None:
    """A 204 unwraps to None."""
    recorder = Recorder(httpx.Response(204))
    result: object = _client(recorder).api_keys.revoke("apikey_1")  # type: ignore[func-returns-value]
    assert result is None
    assert recorder.requests[0].method == "DELETE"


@pytest.mark.parametrize(
    ("status", "code", "exception"),
    [
        pytest.param(404, "not_found", cadenya.NotFoundError, id="404"),
        pytest.param(409, "api_key_revoked", cadenya.ConflictError, id="409"),
        pytest.param(503, "unavailable", cadenya.InternalServerError, id="503"),
    ],
)
def test_an_error_status_raises_its_typed_exception(status: int, code: str, exception: type[Exception]) -> None:
    """The exception of the status, with the API's code; with_raw_response returns it instead."""
    answer = httpx.Response(status, json={"code": code, "message": "no"}, headers={"x-request-id": "req_1"})
    client = _client(Recorder(answer), max_retries=0)
    with pytest.raises(exception) as raised:
        client.api_keys.rotate("apikey_1")
    assert getattr(raised.value, "code", None) == code
    raw = client.api_keys.with_raw_response.rotate("apikey_1")
    assert isinstance(raw, Response)
    assert raw.status_code == status and raw.request_id == "req_1"


def test_per_call_options_reach_the_wire() -> None:
    """extra_headers, extra_query, extra_body and idempotency_key are sent; timeout applies to that call only."""
    recorder = Recorder(httpx.Response(201, json=CREATED))
    client = _client(recorder)
    client.api_keys.create(
        name="ci",
        idempotency_key="idem_fixed",
        timeout=3.5,
        extra_headers={"X-Trace": "t1"},
        extra_query={"dryRun": "true"},
        extra_body={"futureField": 1},
    )
    request = recorder.requests[0]
    assert request.headers["x-trace"] == "t1"
    assert request.headers["idempotency-key"] == "idem_fixed"
    assert request.url.params["dryRun"] == "true"
    assert recorder.body() == {"name": "ci", "futureField": 1}
    assert request.extensions["timeout"]["read"] == 3.5
    assert client.client.timeout.read != 3.5


def test_max_retries_per_call() -> None:
    """max_retries=0 for one call: a 503 is not retried."""
    recorder = Recorder(httpx.Response(503, json={"code": "unavailable", "message": "later"}))
    with pytest.raises(cadenya.InternalServerError):
        _client(recorder).api_keys.get("apikey_1", max_retries=0)
    assert len(recorder.requests) == 1


def _pages(count: int, *, repeat: bool = False) -> Handler:
    """A list of `count` pages of two keys; with `repeat`, the last page points back at the second."""

    def answer(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("pageToken")
        index = int(token) if token else 0
        items = [{**KEY, "metadata": {**KEY["metadata"], "id": f"apikey_{index}_{n}"}} for n in range(2)]
        body: dict[str, Any] = {"items": items}
        if index + 1 < count:
            body["nextPageToken"] = str(index + 1)
        elif repeat:
            body["nextPageToken"] = "1"
        return httpx.Response(200, json=body)

    return answer


def test_list_iterates_every_item_of_every_page() -> None:
    """Iterating the returned page yields all items across pages, with the filters repeated on each."""
    sent: list[httpx.Request] = []
    pages = _pages(3)

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return pages(request)

    page = _client(handler).api_keys.list(include_revoked=True)
    assert isinstance(page, SyncPage)
    assert [key.metadata.id for key in page.items] == ["apikey_0_0", "apikey_0_1"]
    assert page.next_page_token == "1" and page.has_next_page()
    assert len([key.metadata.id for key in page]) == 6
    assert all(isinstance(key, APIKey) for key in page)
    assert all(r.url.params["includeRevoked"] == "true" for r in sent)


def test_one_page_from_a_token() -> None:
    """list(page_token=...) starts there; get_next_page walks one page at a time; the last has no token."""
    page = _client(_pages(3)).api_keys.list(page_token="1")
    assert page.items[0].metadata.id == "apikey_1_0"
    last = page.get_next_page()
    assert last.next_page_token is None and not last.has_next_page()
    with pytest.raises(ValueError, match="last page"):
        last.get_next_page()


def test_a_repeating_page_token_stops_with_a_typed_error() -> None:
    """A server that loops is not followed forever."""
    with pytest.raises(PageRepeatedError):
        list(_client(_pages(3, repeat=True)).api_keys.list())


def test_async_list_is_awaitable_for_a_page_and_async_iterable_for_every_item() -> None:
    """`await` gives the first page; `async for` walks every page."""

    async def run() -> tuple[list[str], list[str]]:
        client = _async_client(_pages(3))
        pager = client.api_keys.list()
        assert isinstance(pager, AsyncPager)
        first = await pager
        assert isinstance(first, AsyncPage)
        every = [key.metadata.id async for key in client.api_keys.list()]
        return [key.metadata.id for key in first.items], every

    first, every = asyncio.run(run())
    assert first == ["apikey_0_0", "apikey_0_1"]
    assert len(every) == 6


def test_async_methods_return_models_and_raise_typed_errors() -> None:
    """The async twin of create and of an error."""

    async def run() -> APIKeyWithToken:
        return await _async_client(Recorder(httpx.Response(201, json=CREATED))).api_keys.create(name="ci")

    assert isinstance(asyncio.run(run()), APIKeyWithToken)

    async def failing() -> Workspace:
        answer = httpx.Response(404, json={"code": "not_found", "message": "no"})
        return await _async_client(Recorder(answer)).workspaces.get("ws_1")

    with pytest.raises(cadenya.NotFoundError):
        asyncio.run(failing())


def test_the_package_is_discoverable() -> None:
    """After `import cadenya`: cadenya.api and its resources list their operations, and help(cadenya) points to both layers."""
    assert "api_keys" in dir(cadenya.api)
    assert "create_api_key" in dir(cadenya.api.api_keys)
    assert callable(cadenya.api.api_keys.create_api_key.sync_detailed)
    doc = cadenya.__doc__ or ""
    assert "Cadenya()" in doc and "cadenya.api.api_keys.create_api_key" in doc
    assert "api_keys:" in (Cadenya.__doc__ or "")


def test_with_options_token_sends_the_new_token_with_its_own_cookie_jar() -> None:
    """After rotating its own key, a program goes on with `with_options(token=...)`; the original is unchanged,
    and a cookie a server set for one token is never sent with the other."""
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.headers["authorization"], request.headers.get("cookie")))
        return httpx.Response(200, json=KEY, headers={"set-cookie": "session=first-token"})

    client = _client(handler)
    client.api_keys.get("apikey_1")
    renewed = client.with_options(token="cad_key_" + "n" * 36)
    renewed.api_keys.get("apikey_1")
    client.api_keys.get("apikey_1")
    assert [authorization for authorization, _ in seen] == [
        f"Bearer {TOKEN}", "Bearer cad_key_" + "n" * 36, f"Bearer {TOKEN}"
    ]  # fmt: skip
    assert [cookie for _, cookie in seen] == [None, None, "session=first-token"]
    assert renewed.client.get_httpx_client() is not client.client.get_httpx_client()


def test_with_options_of_the_same_token_shares_the_connections() -> None:
    """A copy for one call (another timeout, say) uses the same httpx client, its connections and cookies."""
    client = _client(lambda request: httpx.Response(200, json=KEY))
    copy = client.with_options(timeout=5.0, max_retries=0)
    assert copy.client.get_httpx_client() is client.client.get_httpx_client()


@pytest.mark.parametrize("resource_client", [Cadenya, AsyncCadenya])
def test_the_resource_clients_take_the_options_authenticated_client_takes(resource_client: type[Cadenya]) -> None:
    """`Cadenya(token=, base_url=, timeout=, max_retries=, deadline=, max_response_bytes=)` builds the client beneath."""
    client = resource_client(
        token=TOKEN, base_url=BASE_URL, timeout=3.0, max_retries=1, deadline=9.0, max_response_bytes=1000
    )
    beneath = client.client
    assert (beneath.token, beneath.timeout, beneath.max_retries) == (TOKEN, httpx.Timeout(3.0), 1)
    assert (beneath.deadline, beneath.max_response_bytes) == (9.0, 1000)


def test_a_resource_client_refuses_both_a_client_and_options_to_build_one() -> None:
    """`client=` with `token=` is ambiguous: a TypeError names the option, before any request."""
    with pytest.raises(TypeError, match="pass client=, or token to build one, not both"):
        Cadenya(client=AuthenticatedClient(base_url=BASE_URL, token=TOKEN), token=TOKEN)


def test_with_options_leaves_out_what_it_is_not_given_and_none_turns_the_deadline_off() -> None:
    """An option left out keeps its value; `deadline=None` means no deadline, as in the constructor."""
    client = Cadenya(token=TOKEN, base_url=BASE_URL, deadline=9.0, max_retries=4)
    kept = client.with_options(timeout=2.0)
    unbounded = client.with_options(deadline=None)
    assert (kept.client.deadline, kept.client.max_retries, kept.client.timeout) == (9.0, 4, httpx.Timeout(2.0))
    assert (unbounded.client.deadline, unbounded.client.max_retries) == (None, 4)
    assert client.client.deadline == 9.0
    direct = AuthenticatedClient(base_url=BASE_URL, token=TOKEN, deadline=9.0)
    assert direct.with_options(deadline=None).deadline is None
    assert direct.with_options().deadline == 9.0
