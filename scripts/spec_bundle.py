"""`make spec-bundle`: openapi.yaml without its `webhooks`, for tools that cannot read OpenAPI 3.1 webhooks.

    python -m scripts.spec_bundle [--output build/openapi-without-webhooks.yaml]

The bundle is openapi.yaml with the `webhooks` section and the `webhooks` tag left out; everything else is
kept as it is, every component included. The event payload schemas (`APIKeyCreatedEvent`, `WebhookEvent`, ...)
and the webhook header parameters stay: a tool that generates models from components still gives a receiver
the event models, and every `$ref` of the bundle resolves. YAML anchors are written out in full, so the
bundle reads the same in every YAML parser.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
OUTPUT = ROOT / "build" / "openapi-without-webhooks.yaml"
NOTE = (
    "\n\nThis document is openapi.yaml without its `webhooks` section, for tools that cannot read OpenAPI 3.1"
    " webhooks; the event payloads remain as component schemas."
)


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def without_webhooks(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` without `webhooks` and without the tag that only webhooks carry; `spec` itself is left alone."""
    bundle = copy.deepcopy(spec)
    webhooks = bundle.pop("webhooks", {})
    webhook_tags = {tag for item in webhooks.values() for op in item.values() for tag in op.get("tags", [])}
    operation_tags = {
        tag
        for item in bundle.get("paths", {}).values()
        for op in item.values()
        if isinstance(op, dict)
        for tag in op.get("tags", [])
    }
    unused = webhook_tags - operation_tags
    if "tags" in bundle:
        bundle["tags"] = [tag for tag in bundle["tags"] if tag["name"] not in unused]
    bundle["info"]["description"] = bundle["info"].get("description", "").rstrip("\n") + NOTE + "\n"
    return bundle


def render(spec: dict[str, Any]) -> str:
    """The bundle as YAML text, keys in the spec's order."""
    text: str = yaml.dump(without_webhooks(spec), Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=120)
    return "# Written by `make spec-bundle` from openapi.yaml. Do not edit: change openapi.yaml.\n" + text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write the bundle")
    args = parser.parse_args(argv)
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(spec), encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
