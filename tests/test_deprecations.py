"""What the spec marks `deprecated: true` warns DeprecationWarning at the caller's line, once per call site.

The real API deprecates nothing, so tests/fixtures/deprecated/openapi.yaml does: an operation (fetchWidget),
a query parameter (listWidgets' legacyFilter), a request body field (CreateWidgetRequest.legacyCode) and a
response model field (Widget.color). It is generated once, with this project's config and templates, into a
temporary package, imported from there and called against an httpx.MockTransport.
"""

from __future__ import annotations

import asyncio
import copy
import importlib
import pickle
import re
import shutil
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from scripts import generate as generation
from tests.helpers import BASE_URL, TOKEN

FIXTURE = Path(__file__).parent / "fixtures" / "deprecated" / "openapi.yaml"
PACKAGE = "deprecated_widgets"  # the fixture's package, beside the real `cadenya`
WIDGET = {"id": "w1", "name": "gear"}
OLD_WIDGET = {**WIDGET, "color": "red"}
OPERATION = "fetchWidget is deprecated: use getWidget."
PARAMETER = "the legacy_filter parameter of listWidgets is deprecated: Filters nothing any more."
BODY_FIELD = "CreateWidgetRequest.legacy_code is deprecated: send name only."
MODEL_FIELD = "Widget.color is deprecated: Widgets have no color any more; read `name`."


@pytest.fixture(scope="module")
def package_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture spec, generated as scripts/generate.py generates openapi.yaml."""
    destination = tmp_path_factory.mktemp("deprecated")
    generation.generate(destination, FIXTURE)
    package = destination / PACKAGE
    (destination / generation.PACKAGE).rename(package)
    lib = generation.CLIENT / generation.PACKAGE / "lib"
    shutil.copytree(lib, package / "lib", ignore=shutil.ignore_patterns("__pycache__"))
    return package


@pytest.fixture(scope="module")
def sdk(package_dir: Path) -> Iterator[ModuleType]:
    """The generated fixture package, imported."""
    sys.path.insert(0, str(package_dir.parent))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(package_dir.parent))


def _module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def _answer(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/widgets" and request.method == "GET":
        return httpx.Response(200, json={"items": [OLD_WIDGET]})
    return httpx.Response(201 if request.method == "POST" else 200, json=OLD_WIDGET)


def _client(sdk: ModuleType) -> Any:
    return sdk.AuthenticatedClient(
        base_url=BASE_URL, token=TOKEN, httpx_args={"transport": httpx.MockTransport(_answer)}
    )


def _recorded(call: Callable[[], object]) -> list[warnings.WarningMessage]:
    """The DeprecationWarnings `call` emits, every one of them (the "always" action)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
        if asyncio.iscoroutine(result):
            asyncio.run(result)
    return [w for w in caught if issubclass(w.category, DeprecationWarning)]


def _messages(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught]


def _fetch() -> Any:
    return _module("api.widgets.fetch_widget")


# Each way of calling fetchWidget, with the call on the line after the `def`: where the warning must point.
def _sync(sdk: ModuleType) -> object:
    return _fetch().sync("w1", client=_client(sdk))


def _sync_detailed(sdk: ModuleType) -> object:
    return _fetch().sync_detailed("w1", client=_client(sdk))


async def _asyncio(sdk: ModuleType) -> object:
    return await _fetch().asyncio("w1", client=_client(sdk))


async def _asyncio_detailed(sdk: ModuleType) -> object:
    return await _fetch().asyncio_detailed("w1", client=_client(sdk))


def _resource(sdk: ModuleType) -> object:
    return sdk.Cadenya(client=_client(sdk)).widgets.fetch("w1")


def _resource_raw(sdk: ModuleType) -> object:
    return sdk.Cadenya(client=_client(sdk)).widgets.with_raw_response.fetch("w1")


async def _async_resource(sdk: ModuleType) -> object:
    return await sdk.AsyncCadenya(client=_client(sdk)).widgets.fetch("w1")


async def _async_resource_raw(sdk: ModuleType) -> object:
    return await sdk.AsyncCadenya(client=_client(sdk)).widgets.with_raw_response.fetch("w1")


CALL_STYLES: dict[str, Callable[[ModuleType], object]] = {
    "sync": _sync,
    "sync_detailed": _sync_detailed,
    "asyncio": _asyncio,
    "asyncio_detailed": _asyncio_detailed,
    "resource": _resource,
    "resource raw": _resource_raw,
    "async resource": _async_resource,
    "async resource raw": _async_resource_raw,
}


@pytest.mark.parametrize("style", CALL_STYLES)
def test_a_deprecated_operation_warns_once_in_every_call_style(sdk: ModuleType, style: str) -> None:
    """Each call style of a deprecated operation warns exactly once, with the spec's reason."""
    assert _messages(_recorded(lambda: CALL_STYLES[style](sdk))) == [OPERATION]


@pytest.mark.parametrize("style", CALL_STYLES)
def test_a_deprecated_operation_warns_at_the_callers_line(sdk: ModuleType, style: str) -> None:
    """The warning names the caller's file and line, not a frame of the SDK."""
    (caught,) = _recorded(lambda: CALL_STYLES[style](sdk))
    assert (caught.filename, caught.category) == (__file__, DeprecationWarning)
    assert caught.lineno == CALL_STYLES[style].__code__.co_firstlineno + 1


def test_two_calls_from_one_line_warn_once_under_the_default_action(sdk: ModuleType) -> None:
    """Under Python's `default` action, one call site warns once however often it runs."""
    fetch = _module("api.widgets.fetch_widget")
    client = _client(sdk)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(2):
            fetch.sync("w1", client=client)
    assert _messages(caught) == [OPERATION]


def test_two_call_sites_warn_twice_under_the_default_action(sdk: ModuleType) -> None:
    """Under Python's `default` action, each call site warns once."""
    fetch = _module("api.widgets.fetch_widget")
    client = _client(sdk)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        fetch.sync("w1", client=client)
        fetch.sync("w1", client=client)
    assert _messages(caught) == [OPERATION, OPERATION]
    assert caught[0].lineno + 1 == caught[1].lineno


def test_a_deprecated_query_parameter_warns_when_given(sdk: ModuleType) -> None:
    """Passing a deprecated query parameter warns, at the caller's line, and it is still sent."""
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return _answer(request)

    client = sdk.AuthenticatedClient(
        base_url=BASE_URL, token=TOKEN, httpx_args={"transport": httpx.MockTransport(answer)}
    )
    caught = _recorded(lambda: _module("api.widgets.list_widgets").sync(client=client, legacy_filter="x"))
    assert _messages(caught) == [PARAMETER] and caught[0].filename == __file__
    assert sent[0].url.params["legacyFilter"] == "x"


def test_a_deprecated_query_parameter_left_out_does_not_warn(sdk: ModuleType) -> None:
    """The operation of a deprecated parameter, called without it, warns nothing."""
    assert _recorded(lambda: _module("api.widgets.list_widgets").sync(client=_client(sdk))) == []


def test_a_deprecated_query_parameter_warns_through_the_resource_layer(sdk: ModuleType) -> None:
    """The resource method passes the parameter on: one warning, at the caller's line."""
    caught = _recorded(lambda: sdk.Cadenya(client=_client(sdk)).widgets.list(legacy_filter="x"))
    assert _messages(caught) == [PARAMETER] and caught[0].filename == __file__


def test_a_deprecated_body_field_warns_when_the_request_model_is_given_it(sdk: ModuleType) -> None:
    """Building a request model with a deprecated field warns at that line."""
    request = _module("models").CreateWidgetRequest
    caught = _recorded(lambda: request(name="gear", legacy_code="g-1"))
    assert _messages(caught) == [BODY_FIELD] and caught[0].filename == __file__


def test_a_deprecated_body_field_warns_once_through_the_resource_layer(sdk: ModuleType) -> None:
    """`create(legacy_code=...)` warns once, at the caller's line, and sends the field."""
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return _answer(request)

    client = sdk.AuthenticatedClient(
        base_url=BASE_URL, token=TOKEN, httpx_args={"transport": httpx.MockTransport(answer)}
    )
    caught = _recorded(lambda: sdk.Cadenya(client=client).widgets.create(name="gear", legacy_code="g-1"))
    assert _messages(caught) == [BODY_FIELD] and caught[0].filename == __file__
    assert b'"legacyCode"' in sent[0].content


def test_a_request_without_the_deprecated_body_field_does_not_warn(sdk: ModuleType) -> None:
    """`create(name=...)` alone warns nothing."""
    assert _recorded(lambda: sdk.Cadenya(client=_client(sdk)).widgets.create(name="gear")) == []


def test_a_deprecated_model_field_warns_when_constructed_with_it(sdk: ModuleType) -> None:
    """`Widget(color=...)` warns at the caller's line."""
    widget = _module("models").Widget
    caught = _recorded(lambda: widget(id="w1", name="gear", color="red"))
    assert _messages(caught) == [MODEL_FIELD] and caught[0].filename == __file__


def test_a_deprecated_model_field_warns_when_set(sdk: ModuleType) -> None:
    """Setting a deprecated field on a model warns at the caller's line, and sets it."""
    widget = _module("models").Widget(id="w1", name="gear")
    caught = _recorded(lambda: setattr(widget, "color", "blue"))
    assert _messages(caught) == [MODEL_FIELD] and caught[0].filename == __file__
    assert widget.color == "blue"


def test_a_model_without_the_deprecated_field_does_not_warn(sdk: ModuleType) -> None:
    """`Widget(...)` without the deprecated field warns nothing."""
    assert _recorded(lambda: _module("models").Widget(id="w1", name="gear")) == []


def test_a_response_carrying_a_deprecated_field_does_not_warn(sdk: ModuleType) -> None:
    """The SDK parsing an answer with a deprecated field keeps the value and warns nothing."""
    results: list[Any] = []
    caught = _recorded(lambda: results.append(_module("api.widgets.get_widget").sync("w1", client=_client(sdk))))
    assert caught == []
    assert results[0].color == "red"


def test_a_model_with_a_deprecated_field_round_trips_without_warning(sdk: ModuleType) -> None:
    """from_dict, to_dict, copy, deepcopy and pickle keep the deprecated field and warn nothing."""
    widget_class = _module("models").Widget
    results: list[Any] = []

    def round_trips() -> None:
        widget = widget_class.from_dict(OLD_WIDGET)
        unpickled = pickle.loads(pickle.dumps(widget))  # noqa: S301
        results.extend([widget.to_dict(), copy.copy(widget), copy.deepcopy(widget), unpickled])
        results.append(widget)

    assert _recorded(round_trips) == []
    as_dict, *duplicates, original = results
    assert as_dict == OLD_WIDGET
    assert duplicates == [original] * 3


def test_an_operation_with_nothing_deprecated_has_no_warning_code(package_dir: Path) -> None:
    """getWidget's generated module neither imports nor calls the deprecation warning."""
    source = (package_dir / "api" / "widgets" / "get_widget.py").read_text(encoding="utf-8")
    assert "deprecat" not in source.lower()
    assert "warn_deprecated(" in (package_dir / "api" / "widgets" / "fetch_widget.py").read_text(encoding="utf-8")


def test_the_real_client_has_no_warning_code() -> None:
    """openapi.yaml deprecates nothing, so no generated module of the client warns or imports the warning."""
    package = generation.CLIENT / generation.PACKAGE
    generated = [
        path for path in package.rglob("*.py") if path.relative_to(package).parts[0] not in generation.HAND_WRITTEN
    ]
    assert len(generated) > 50
    assert [path for path in generated if "_deprecation" in path.read_text(encoding="utf-8")] == []


def _readme_snippet() -> str:
    section = (generation.ROOT / "README.md").read_text(encoding="utf-8").split("### Deprecations\n", 1)[1]
    found = re.search(r"```python\n(.*?)```", section.split("\n## ", 1)[0], re.DOTALL)
    assert found is not None
    return found.group(1)


def test_the_readmes_filters_silence_a_deprecated_operation(sdk: ModuleType) -> None:
    """Running the README's Deprecations snippet silences fetchWidget's warning."""
    client = _client(sdk)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(_readme_snippet(), {})  # noqa: S102  # the README's own code
        _fetch().sync("w1", client=client)
    assert caught == []
