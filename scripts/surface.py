"""Print, check or rewrite the snapshot of the generated package's public surface.

    python scripts/surface.py          print the surface
    python scripts/surface.py --write  rewrite tests/snapshots/public_surface.txt

The surface is every operation module with its four call styles' signatures, and every model with its
fields and their types. tests/test_surface.py fails when it differs from the committed snapshot, so a
spec change shows its API diff in review.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import sys
import typing
from pathlib import Path
from types import ModuleType

import attrs

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "tests" / "snapshots" / "public_surface.txt"
CALL_STYLES = ("sync", "sync_detailed", "asyncio", "asyncio_detailed")


def _annotation(annotation: object) -> str:
    if annotation is inspect.Parameter.empty:
        return "<unannotated>"
    if isinstance(annotation, str):
        return annotation
    return inspect.formatannotation(annotation).replace("cadenya.", "")


def _signature(function: typing.Callable[..., object]) -> str:
    from cadenya.types import UNSET

    signature = inspect.signature(function)
    parameters: list[str] = []
    keyword_only_marked = False
    for parameter in signature.parameters.values():
        if parameter.name == "self":
            continue
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and not keyword_only_marked:
            parameters.append("*")
            keyword_only_marked = True
        text = f"{parameter.name}: {_annotation(parameter.annotation)}"
        if parameter.default is not inspect.Parameter.empty:
            text += " = UNSET" if parameter.default is UNSET else f" = {parameter.default!r}"
        parameters.append(text)
    prefix = "async def" if inspect.iscoroutinefunction(function) else "def"
    return f"{prefix} {function.__name__}({', '.join(parameters)}) -> {_annotation(signature.return_annotation)}"


def _submodules(package: ModuleType) -> list[ModuleType]:
    names = sorted(info.name for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."))
    return [importlib.import_module(name) for name in names]


def _operations() -> list[str]:
    lines: list[str] = []
    api = importlib.import_module("cadenya.api")
    for tag in _submodules(api):
        for operation in _submodules(tag):
            lines.append(f"{operation.__name__}")
            for style in CALL_STYLES:
                lines.append(f"    {_signature(getattr(operation, style))}")
    return lines


def _models() -> list[str]:
    lines: list[str] = []
    models = importlib.import_module("cadenya.models")
    for name in sorted(models.__all__):
        model = getattr(models, name)
        if attrs.has(model):
            lines.append(f"class cadenya.models.{name}")
            for field in attrs.fields(model):
                init = "" if field.init else "  (not an __init__ argument)"
                lines.append(f"    {field.name}: {_annotation(field.type)}{init}")
        else:
            lines.append(f"{name} = {_enum(model)}")
    return lines


def _enum(alias: object) -> str:
    """An enum alias as `Literal[...]`, followed by `| UnrecognizedStr` when it keeps unknown values."""
    parts = []
    for member in typing.get_args(alias) or (alias,):
        if typing.get_origin(member) is typing.Literal:
            parts.append(f"Literal[{', '.join(repr(value) for value in typing.get_args(member))}]")
        else:
            parts.append(getattr(member, "__name__", repr(member)))
    return " | ".join(parts)


def _resource_lines(path: str, cls: type) -> list[str]:
    lines = [f"{path}: {cls.__name__}"]
    for name, member in sorted(vars(cls).items()):
        if not name.startswith("_") and callable(member):
            lines += [f"    {_signature(variant)}" for variant in typing.get_overloads(member) or [member]]
    return lines


def _resources() -> list[str]:
    """Every resource of Cadenya and AsyncCadenya, as users reach them, with their methods' signatures."""
    import cadenya

    lines: list[str] = []
    for root in (cadenya.Cadenya, cadenya.AsyncCadenya):
        client = root(client=cadenya.AuthenticatedClient(base_url="https://api.cadenya.invalid", token="cad_key_x"))  # noqa: S106  (no request is sent)
        lines += [f"class cadenya.{root.__name__}", f"    {_signature(root.with_options)}"]
        for name in root._resources:  # made on first use: make them all
            getattr(client, name)
        pending = [(f"{root.__name__}.{name}", value) for name, value in sorted(vars(client).items()) if name[0] != "_"]
        while pending:
            path, resource = pending.pop(0)
            lines += _resource_lines(path, type(resource))
            pending += [(f"{path}.{name}", value) for name, value in sorted(vars(resource).items()) if name[0] != "_"]
    return lines


def surface() -> str:
    """The public surface of the installed cadenya package, one line per item."""
    sections = ["# operations", *_operations(), "", "# resources", *_resources(), "", "# models", *_models()]
    return "\n".join(sections) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help=f"rewrite {SNAPSHOT.relative_to(ROOT)}")
    args = parser.parse_args()
    text = surface()
    if args.write:
        SNAPSHOT.write_text(text, encoding="utf-8")
        print(f"wrote {SNAPSHOT.relative_to(ROOT)}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
