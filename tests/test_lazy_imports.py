"""What importing the package loads: models, resources, webhooks and asyncio only when first used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import cadenya
import cadenya.models
import cadenya.resources
from cadenya import AuthenticatedClient, Cadenya
from tests.helpers import TOKEN


def modules_after(code: str) -> set[str]:
    """The modules of a fresh interpreter after running `code`."""
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    return set(json.loads(output.stdout))


@pytest.mark.parametrize(
    ("code", "loaded", "not_loaded"),
    [
        pytest.param(
            "import cadenya",
            {"cadenya.client", "cadenya.lib._send"},
            {"cadenya.models.api_key", "cadenya.resources.api_keys", "cadenya.lib.webhooks", "asyncio"},
            id="package",
        ),
        pytest.param(
            "from cadenya.api.api_keys import get_api_key",
            {"cadenya.models.api_key", "cadenya.models.error"},
            {"cadenya.models.service_account", "cadenya.models.webhook_event", "cadenya.resources.api_keys"},
            id="one-operation",
        ),
        pytest.param(
            "from cadenya import Cadenya",
            {"cadenya._client"},
            {"cadenya.resources.api_keys", "cadenya.models.api_key"},
            id="resource-client",
        ),
        pytest.param(
            "from cadenya import Cadenya\nCadenya(token='cad_key_x').api_keys",
            {"cadenya.resources.api_keys", "cadenya.models.api_key"},
            {"cadenya.resources.workspaces", "cadenya.resources.service_accounts", "cadenya.resources.account"},
            id="one-resource",
        ),
        pytest.param(
            "from cadenya.models import Error",
            {"cadenya.models.error", "cadenya.models.error_detail"},
            {"cadenya.models.api_key", "cadenya.models.workspace"},
            id="one-model",
        ),
        pytest.param(
            "import cadenya\ncadenya.webhooks.verify",
            {"cadenya.lib.webhooks", "cadenya.models.webhook_event"},
            {"cadenya.resources.api_keys"},
            id="webhooks",
        ),
    ],
)
def test_an_import_loads_what_it_uses_and_no_more(code: str, loaded: set[str], not_loaded: set[str]) -> None:
    """Each entry point loads its own modules, not every model, resource, asyncio or the webhook events.

    What httpx itself loads does not count: older httpx versions (the lowest the package allows) import asyncio.
    """
    modules = modules_after(code)
    assert loaded <= modules
    assert not ((not_loaded - modules_after("import httpx")) & modules)


@pytest.mark.parametrize("package", [cadenya.models, cadenya.resources], ids=["models", "resources"])
def test_every_name_of_a_lazy_package_resolves_and_is_listed(package: object) -> None:
    """Every name in __all__ is an attribute of the package, kept once loaded, and dir() lists them all."""
    names = package.__all__  # type: ignore[attr-defined]
    resolved = {name: getattr(package, name) for name in names}
    assert all(vars(package)[name] is value for name, value in resolved.items())
    assert set(names) <= set(dir(package))


@pytest.mark.parametrize("package", [cadenya.models, cadenya.resources], ids=["models", "resources"])
def test_an_unknown_name_of_a_lazy_package_is_an_attribute_error(package: object) -> None:
    """A name the package does not have raises AttributeError, as for any module."""
    with pytest.raises(AttributeError, match="Nope"):
        getattr(package, "Nope")  # noqa: B009  (the name is the point of the test)


def test_a_copy_makes_its_resources_over_its_own_client() -> None:
    """with_options after a resource was used gives resources bound to the copy's client, not the original's."""
    client = Cadenya(client=AuthenticatedClient(base_url="https://api.test.cadenya.invalid", token=TOKEN))
    original = client.api_keys
    copy = client.with_options(max_retries=0)
    assert copy.api_keys is not original
    assert copy.api_keys._holder is copy
    assert copy.client.max_retries == 0
    assert client.api_keys is original
