"""api.md, the API reference written by scripts/apiref.py from openapi.yaml."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from scripts import apiref

PACKAGE_API = apiref.ROOT / "client" / "cadenya" / "api"

TINY_SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "Tiny API", "version": "0.1.0"},
    "tags": [{"name": "widgets", "description": "Widgets of the shop."}],
    "paths": {
        "/widgets/{widgetId}": {
            "get": {
                "operationId": "getWidget",
                "tags": ["widgets"],
                "security": [{"apiKeyAuth": []}],
                "summary": "Get a widget",
                "description": "Returns one widget.",
                "parameters": [
                    {
                        "name": "widgetId",
                        "in": "path",
                        "required": True,
                        "description": "The widget's id, such as `wdg_1`.",
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The widget.",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Widget"}}},
                    },
                    "404": {
                        "description": "No such widget.",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                },
                "x-error-codes": {"404": ["not_found"]},
            }
        }
    },
    "components": {
        "securitySchemes": {"apiKeyAuth": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Widget": {
                "type": "object",
                "description": "A thing for sale.",
                "required": ["widgetId"],
                "properties": {
                    "widgetId": {"type": "string", "description": "Unique per shop."},
                    "priceCents": {"type": "integer", "description": "The price, in cents."},
                },
            },
            "ErrorCode": {
                "type": "string",
                "enum": ["not_found"],
                "x-enum-descriptions": ["404: the widget does not exist."],
            },
            "Error": {
                "type": "object",
                "required": ["code"],
                "properties": {"code": {"$ref": "#/components/schemas/ErrorCode"}},
            },
        },
    },
}


@pytest.fixture(scope="module")
def tiny_reference(tmp_path_factory: pytest.TempPathFactory) -> str:
    spec_path = tmp_path_factory.mktemp("tiny") / "openapi.yaml"
    spec_path.write_text(yaml.safe_dump(TINY_SPEC, sort_keys=False), encoding="utf-8")
    return apiref.render_file(spec_path)


def test_api_md_is_what_the_spec_gives() -> None:
    """The committed api.md is what `make generate` writes from openapi.yaml (`make check` fails otherwise)."""
    current, wanted = apiref.expected()
    assert current == wanted, "api.md is stale: run `make generate` and commit it"


def test_an_operation_lists_its_error_codes(tiny_reference: str) -> None:
    """Each status of x-error-codes becomes a row per code, with the code's meaning from ErrorCode."""
    assert "| 404 | `not_found` | the widget does not exist. |" in tiny_reference


def test_an_operation_shows_its_resource_call(tiny_reference: str) -> None:
    """The resource method is named by scripts/resources.py's rule, path parameters first."""
    assert "client.widgets.get(widget_id: str) -> Widget" in tiny_reference


def test_an_operation_shows_its_operation_functions(tiny_reference: str) -> None:
    """The import line and the operation module's signatures are shown, with the client they take."""
    assert "from cadenya.api.widgets.get_widget import sync, sync_detailed, asyncio, asyncio_detailed" in tiny_reference
    assert (
        "def sync_detailed(widget_id: str, *, client: AuthenticatedClient) -> Response[Error | Widget]"
        in tiny_reference
    )


def test_a_parameter_shows_its_description(tiny_reference: str) -> None:
    """A parameter's row gives its wire name, Python name, place, type, requiredness and description."""
    assert "| `widgetId` | `widget_id` | path | `str` | yes | The widget's id, such as `wdg_1`. |" in tiny_reference


def test_a_model_lists_its_fields(tiny_reference: str) -> None:
    """A model's row gives its JSON name, Python attribute, type, requiredness and description."""
    assert "| `priceCents` | `price_cents` | `int` | no | The price, in cents. |" in tiny_reference


def test_a_link_to_a_missing_heading_fails_the_rendering() -> None:
    """An in-page link without its heading is refused rather than written broken."""
    with pytest.raises(ValueError, match="nowhere"):
        apiref.check_anchors("## Models\n\nSee [Widget](#widget).\n")


def test_two_headings_with_one_id_fail_the_rendering() -> None:
    """Two headings GitHub would give the same id are refused."""
    with pytest.raises(ValueError, match="same id"):
        apiref.check_anchors("## Widget\n\n### widget\n")


def _signature_line(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    arguments = function.args
    parameters = [
        f"{a.arg}: {ast.unparse(a.annotation)}" for a in arguments.posonlyargs + arguments.args if a.annotation
    ]
    if arguments.kwonlyargs:
        parameters.append("*")
    for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        declaration = f"{argument.arg}: {ast.unparse(argument.annotation)}" if argument.annotation else argument.arg
        parameters.append(declaration if default is None else f"{declaration} = {ast.unparse(default)}")
    prefix = "async def" if isinstance(function, ast.AsyncFunctionDef) else "def"
    returns = ast.unparse(function.returns) if function.returns else "None"
    return f"{prefix} {function.name}({', '.join(parameters)}) -> {returns}"


def _call_styles(module: Path) -> list[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    names = {"sync", "sync_detailed", "asyncio", "asyncio_detailed"}
    return [
        _signature_line(node)
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in names
    ]


@pytest.mark.parametrize(
    "module",
    [
        pytest.param(m, id=f"{m.parent.name}.{m.stem}")
        for m in sorted(PACKAGE_API.glob("*/*.py"))
        if m.stem != "__init__"
    ],
)
def test_signatures_in_api_md_are_those_of_the_generated_module(module: Path) -> None:
    """Each of the four functions of an operation module appears in api.md exactly as it is defined."""
    reference = apiref.API_MD.read_text(encoding="utf-8")
    signatures = _call_styles(module)
    assert len(signatures) == 4
    for signature in signatures:
        assert signature in reference
