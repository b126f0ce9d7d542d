"""Every template of templates/ says where it comes from: the stock template of the pinned
openapi-python-client it overrides, or that it is new. A generator upgrade then fails here until each
override has been compared with its stock file of the new version (`diff` old stock, new stock, override)."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import openapi_python_client
import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
STOCK = Path(openapi_python_client.__file__).parent / "templates"
OVERRIDE = re.compile(r"\{# Override of openapi-python-client (?P<version>\S+) templates/(?P<stock>\S+)\. #\}")
NEW = re.compile(r"\{# New, no stock counterpart in openapi-python-client (?P<version>\S+): .+ #\}")


def _pinned() -> str:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    pins = [pin for group in dependencies.values() for pin in group if pin.startswith("openapi-python-client==")]
    assert len(pins) == 1, pins
    return str(pins[0]).split("==", 1)[1]


def _templates() -> list[str]:
    return sorted(path.relative_to(TEMPLATES).as_posix() for path in TEMPLATES.rglob("*") if path.is_file())


def test_the_pinned_generator_is_the_installed_one() -> None:
    """The headers name the version that is installed: the stock templates compared are the ones in use."""
    assert metadata.version("openapi-python-client") == _pinned()


@pytest.mark.parametrize("name", _templates())
def test_a_template_names_its_stock_origin_in_the_pinned_version(name: str) -> None:
    """Line 1 is `Override of openapi-python-client <pin> templates/<its own path>` (a stock file that exists)
    or `New, no stock counterpart in openapi-python-client <pin>` (and no stock file has its path)."""
    first = (TEMPLATES / name).read_text(encoding="utf-8").splitlines()[0]
    override, new = OVERRIDE.fullmatch(first), NEW.fullmatch(first)
    assert override or new, f"templates/{name} does not say which stock template it comes from: {first!r}"
    match = override or new
    assert match is not None and match["version"] == _pinned(), first
    if override:
        assert override["stock"] == name, "an override replaces the stock template of its own path"
        assert (STOCK / name).is_file(), f"openapi-python-client {_pinned()} has no templates/{name}"
    else:
        assert not (STOCK / name).exists(), f"templates/{name} overrides a stock template: say so"
