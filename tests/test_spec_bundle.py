"""`make spec-bundle`: openapi.yaml without webhooks, whole otherwise, for tools that cannot read 3.1 webhooks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from scripts import spec_bundle


@pytest.fixture(scope="module")
def bundle_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The text `python -m scripts.spec_bundle --output ...` writes."""
    output = tmp_path_factory.mktemp("bundle") / "nested" / "openapi.yaml"
    spec_bundle.main(["--output", str(output)])
    return output.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def bundle(bundle_text: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(bundle_text)
    return loaded


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [ref for key, value in node.items() for ref in ([value] if key == "$ref" else _refs(value))]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def test_the_bundle_has_no_webhooks_and_no_webhook_tag(bundle: dict[str, Any]) -> None:
    """Neither the `webhooks` section nor the tag only webhooks carry is left."""
    assert "webhooks" not in bundle
    assert "webhooks" not in [tag["name"] for tag in bundle["tags"]]


def test_the_bundle_keeps_every_path_and_component(spec: dict[str, Any], bundle: dict[str, Any]) -> None:
    """Paths, components (the event payload schemas included), security and servers are the spec's own."""
    for key in ("openapi", "paths", "components", "security", "servers"):
        assert bundle[key] == spec[key], key
    assert "APIKeyCreatedEvent" in bundle["components"]["schemas"]
    assert [tag for tag in spec["tags"] if tag["name"] != "webhooks"] == bundle["tags"]


def test_the_bundle_says_what_it_leaves_out(spec: dict[str, Any], bundle: dict[str, Any]) -> None:
    """info is the spec's, its description ending with a note that the webhooks are left out."""
    assert bundle["info"]["description"].startswith(spec["info"]["description"].rstrip("\n"))
    assert "without its `webhooks` section" in bundle["info"]["description"]
    assert {k: v for k, v in bundle["info"].items() if k != "description"} == {
        k: v for k, v in spec["info"].items() if k != "description"
    }


def test_the_bundle_is_valid_openapi_whose_every_ref_resolves(bundle: dict[str, Any]) -> None:
    """openapi-spec-validator accepts it, and each local $ref points at something the bundle holds."""
    validate(bundle)
    for ref in _refs(bundle):
        target: Any = bundle
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        assert isinstance(target, dict), ref


def test_the_bundle_has_no_yaml_anchors(bundle_text: str) -> None:
    """Anchors are written out, so the bundle reads the same in every YAML parser."""
    events = list(yaml.parse(bundle_text, Loader=yaml.SafeLoader))
    assert not [event for event in events if isinstance(event, yaml.AliasEvent)]
    assert not [event for event in events if getattr(event, "anchor", None)]


def test_the_bundle_leaves_the_spec_it_reads_alone(spec: dict[str, Any]) -> None:
    """without_webhooks works on a copy."""
    before = copy.deepcopy(spec)
    spec_bundle.without_webhooks(spec)
    assert spec == before


def test_the_bundle_is_written_where_make_spec_bundle_says(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The script reports the file it wrote; by default build/openapi-without-webhooks.yaml, which git ignores."""
    spec_bundle.main(["--output", str(tmp_path / "out.yaml")])
    assert capsys.readouterr().out == f"wrote {tmp_path / 'out.yaml'}\n"
    assert spec_bundle.OUTPUT.relative_to(spec_bundle.ROOT) == Path("build/openapi-without-webhooks.yaml")
