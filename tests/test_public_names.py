"""Exceptions go by the public name they are imported as: `cadenya.NotFoundError`, in tracebacks and in pickles."""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys
import traceback
from types import ModuleType

import httpx
import pytest

import cadenya
from cadenya import AuthenticatedClient, Cadenya
from cadenya.lib import webhooks
from tests.helpers import BASE_URL, ROOT, TOKEN


def _exceptions_of(module: ModuleType) -> list[type[BaseException]]:
    exported = (getattr(module, name) for name in module.__all__ if name not in ("__version__", "webhooks"))
    return [kind for kind in exported if isinstance(kind, type) and issubclass(kind, BaseException)]


EXPORTED = [pytest.param(kind, id=kind.__name__) for kind in _exceptions_of(cadenya)]
ALSO_PUBLIC = [
    pytest.param(kind, id=kind.__name__) for kind in [*_exceptions_of(webhooks), cadenya.types.UnmatchedVariant]
]


def _named(dotted_module: str, qualname: str) -> object:
    found: object = importlib.import_module(dotted_module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def test_cadenya_exports_its_exceptions() -> None:
    """The exceptions checked below are the whole family, not none."""
    assert {"CadenyaError", "NotFoundError", "APIConnectionError", "UnexpectedStatus"} <= {
        kind.__name__ for kind in _exceptions_of(cadenya)
    }


@pytest.mark.parametrize("kind", EXPORTED)
def test_an_exported_exception_is_named_as_cadenya_exports_it(kind: type[BaseException]) -> None:
    """`cadenya.X.__module__` is `cadenya`, and `module.qualname` imports back to the very class."""
    assert kind.__module__ == "cadenya"
    assert _named(kind.__module__, kind.__qualname__) is kind


@pytest.mark.parametrize("kind", ALSO_PUBLIC)
def test_the_other_public_exceptions_name_a_public_module(kind: type[BaseException]) -> None:
    """The webhook and union exceptions name a module without a private part, which imports back to them."""
    assert not any(part.startswith("_") for part in kind.__module__.split("."))
    assert _named(kind.__module__, kind.__qualname__) is kind


def _not_found(request: httpx.Request) -> httpx.Response:
    body = {"code": "not_found", "message": "No API key apikey_gone in this account."}
    return httpx.Response(404, json=body, headers={"X-Request-Id": "req_404"})


def test_the_traceback_of_a_failed_call_names_cadenya_not_found_error() -> None:
    """A resource call answered 404 raises an error whose formatted traceback ends `cadenya.NotFoundError: 404 ...`."""
    transport = httpx.MockTransport(_not_found)
    client = Cadenya(client=AuthenticatedClient(base_url=BASE_URL, token=TOKEN, httpx_args={"transport": transport}))
    with pytest.raises(cadenya.NotFoundError) as raised:
        client.api_keys.get("apikey_gone")
    last_line = traceback.format_exception(raised.value)[-1]
    assert last_line.startswith("cadenya.NotFoundError: 404 not_found: No API key apikey_gone"), last_line
    assert "_errors" not in "".join(traceback.format_exception_only(raised.value))


def test_an_uncaught_error_prints_its_public_name() -> None:
    """A program that lets a NotFoundError escape prints `cadenya.NotFoundError: ...` as its last line."""
    program = (
        "import httpx, cadenya\n"
        "def answer(request):\n"
        "    return httpx.Response(404, json={'code': 'not_found', 'message': 'gone'})\n"
        "transport = httpx.MockTransport(answer)\n"
        f"inner = cadenya.AuthenticatedClient(base_url={BASE_URL!r}, token={TOKEN!r}, httpx_args={{'transport': transport}})\n"
        "cadenya.Cadenya(client=inner).api_keys.get('apikey_gone')\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "cadenya.NotFoundError: 404 not_found: gone"


@pytest.mark.parametrize("kind", EXPORTED)
def test_the_pickle_of_an_exported_exception_names_its_public_module(kind: type[BaseException]) -> None:
    """Pickling a class by reference writes `cadenya` and its name, and loads back the same class."""
    pickled = pickle.dumps(kind)
    assert b"cadenya.lib" not in pickled
    assert pickle.loads(pickled) is kind  # noqa: S301
