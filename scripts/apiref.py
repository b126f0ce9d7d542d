"""Write api.md, the API reference, from openapi.yaml and the generator's reading of it.

`make generate` rewrites api.md; `make check` fails when it differs from what the spec gives. Operations
are grouped by tag in the order of the spec's `tags`, then in the order of `paths`; models follow
`components/schemas`. Python names and types come from openapi-python-client's parse of the spec (the one
the generated package is written from), the operation functions' parameters from its own `arguments`
macro, and resource methods from scripts/resources.py's reading of the generated package, so api.md
cannot name a call the package lacks.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment
from openapi_python_client import Project
from openapi_python_client.config import Config, ConfigFile, MetaType
from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.openapi import Endpoint
from openapi_python_client.parser.properties import ModelProperty, Property

from scripts import resources

ROOT = Path(__file__).resolve().parent.parent
API_MD = ROOT / "api.md"
SPEC = ROOT / "openapi.yaml"
CONFIG = ROOT / "generator-config.yaml"
TEMPLATES = ROOT / "templates"
PACKAGE = "cadenya"
HTTP_METHODS = ("get", "put", "post", "patch", "delete")
SCHEMAS_PREFIX = "/components/schemas/"  # how the generator names a model read from components/schemas

HEADER = """\
<!-- Generated from openapi.yaml by scripts/apiref.py. Do not edit by hand: change openapi.yaml, then run
`make generate`. -->
"""

INTRO = """\
Every operation can be called two ways, through the same send path (timeouts, retries, idempotency keys,
logging):

- **The resource client.** `client = cadenya.Cadenya()` (or `cadenya.AsyncCadenya()`, whose methods are the
  same, awaited). A method returns the success model, `None` for a 204, and raises the exception of its
  error status (see the README's *Errors*). A list method returns its first page, and iterating it yields
  every item of every page. A method that takes a request body takes its fields as keywords or the whole
  model as `body=`. Every method also takes the per-call options `timeout`, `max_retries`, `extra_headers`,
  `extra_query` and `extra_body` (left out of the signatures below), and
  `client.<resource>.with_raw_response.<method>(...)` returns the whole `Response` instead.
- **The operation functions.** `cadenya.api.<tag>.<operation>` has `sync`, `sync_detailed`, `asyncio` and
  `asyncio_detailed`, called with an `AuthenticatedClient`. They return the parsed body (`Model | Error`)
  or the whole `Response`, and raise nothing for an error status.

Error statuses list the `ErrorCode` values (`Error.code`) each operation can answer; a later version of the
API may add codes, which arrive as an `UnrecognizedStr`. Optional fields and parameters are `Unset` when
absent.
"""


def _text(value: Any) -> str:
    """A spec string, whether read by yaml or wrapped by the generator as untrusted."""
    if value is None:
        return ""
    getter = getattr(value, "get_untrusted_value", None)
    return str(getter() if getter is not None else value)


def _code(value: Any) -> str:
    """A type as the generated code spells it, with the resource layer's `builtins.` prefix left out."""
    text = str(value.as_unembedded_code()) if hasattr(value, "as_unembedded_code") else str(value)
    return text.replace("builtins.", "")


def _cell(text: str) -> str:
    """`text` fit for one cell of a Markdown table."""
    return " ".join(text.split()).replace("|", "\\|")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def anchor(heading: str) -> str:
    """The id GitHub gives a Markdown heading."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


def _link(name: str, schemas: dict[str, Any]) -> str:
    return f"[`{name}`](#{anchor(name)})" if name in schemas else f"`{name}`"


def _ref_name(node: Any) -> str | None:
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        return str(node["$ref"]).rsplit("/", 1)[-1]
    return None


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    """`node`, or what its `$ref` points to inside `spec`."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _path_shape(path: str) -> str:
    """`path` without its parameter names, which the generator rewrites in snake_case."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def _code_meanings(spec: dict[str, Any]) -> dict[str, str]:
    """Each ErrorCode's meaning, its x-enum-description without the leading statuses."""
    schema = spec.get("components", {}).get("schemas", {}).get("ErrorCode", {})
    return {
        code: description.split(": ", 1)[-1]
        for code, description in zip(schema.get("enum", []), schema.get("x-enum-descriptions", []), strict=True)
    }


@dataclass
class Parsed:
    """The spec as read from disk, the generator's reading of it, its template environment, and the package
    generated from it."""

    spec: dict[str, Any]
    openapi: GeneratorData
    env: Environment
    package: Path


def parse(*, spec_path: Path, config_path: Path, templates: Path, package: Path) -> Parsed:
    """Read `spec_path` the way openapi-python-client does when it writes the package at `package`."""
    config = Config.from_sources(
        ConfigFile.load_from_path(config_path), MetaType.NONE, spec_path, "utf-8", True, package
    )
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    openapi = GeneratorData.from_dict(spec, config=config)
    if not isinstance(openapi, GeneratorData):
        raise RuntimeError(f"the spec does not parse: {openapi.detail}")
    return Parsed(spec, openapi, Project(openapi=openapi, config=config, custom_template_path=templates).env, package)


def _resource_methods(parsed: Parsed) -> dict[str, tuple[str, resources.Method]]:
    """Each operation module's resource method, with the path by which a user reaches its resource."""
    found: dict[str, tuple[str, resources.Method]] = {}

    def visit(resource: resources.Resource) -> None:
        for method in resource.methods:
            found[method.module] = (resource.path, method)
        for child in resource.children:
            visit(child)

    for root, _, _ in resources.plan(parsed.package, parsed.spec):
        visit(root)
    return found


def resource_calls(path: str, method: resources.Method) -> list[str]:
    """The resource method's call forms: its fields as keywords and, with a request body, `body=`."""
    returns = f"SyncPage[{method.item}]" if method.item else method.returns
    positional = [_code(f.declaration) for f in method.path]
    trailing = [_code(f.declaration) for f in method.query + method.headers]
    forms = [[_code(f.declaration) for f in method.body]]
    if method.body_model:
        forms.append([f"body: {method.body_model}"])
    calls = []
    for body in forms:
        keywords = [*body, *trailing]
        parameters = [*positional, *(["*", *keywords] if keywords else [])]
        calls.append(f"{path}.{method.name}({', '.join(parameters)}) -> {_code(returns)}")
    return calls


def operation_signatures(endpoint: Endpoint, parsed: Parsed) -> list[str]:
    """The four functions of an operation module, one line each, as templates/endpoint_module.py.jinja writes them."""
    arguments = str(parsed.env.get_template("endpoint_macros.py.jinja").module.arguments(endpoint))  # type: ignore[attr-defined]  # a Jinja macro
    parameters = ", ".join(line.strip().rstrip(",") for line in arguments.splitlines() if line.strip())
    answer = _code(endpoint.response_type())
    has_plain = bool(endpoint.responses) and answer != "Any"
    if answer.startswith("Any | "):  # a 204: the template answers None rather than Any
        answer = "None | " + answer.removeprefix("Any | ")
    plain = answer if answer.startswith("None | ") else f"{answer} | None"
    lines = [f"def sync_detailed({parameters}) -> Response[{answer}]"]
    if has_plain:
        lines.insert(0, f"def sync({parameters}) -> {plain}")
        lines.append(f"async def asyncio({parameters}) -> {plain}")
    lines.append(f"async def asyncio_detailed({parameters}) -> Response[{answer}]")
    return lines


def _parameters_table(operation: dict[str, Any], endpoint: Endpoint, spec: dict[str, Any]) -> list[str]:
    declared = [_resolve(spec, p) for p in operation.get("parameters", [])]
    if not declared:
        return []
    python: dict[tuple[str, str], Property] = {}
    for location, props in (
        ("path", endpoint.path_parameters),
        ("query", endpoint.query_parameters),
        ("header", endpoint.header_parameters),
        ("cookie", endpoint.cookie_parameters),
    ):
        for prop in props:
            python[(_text(prop.name), location)] = prop
    rows = ["**Parameters**", "", "| name | Python | in | type | required | description |", "|---|---|---|---|---|---|"]
    for parameter in declared:
        prop = python[(parameter["name"], parameter["in"])]
        rows.append(
            f"| `{parameter['name']}` | `{prop.python_name}` | {parameter['in']} "
            f"| `{_cell(_code(prop.get_type_string(no_optional=True)))}` | {'yes' if parameter.get('required') else 'no'} "
            f"| {_cell(_text(parameter.get('description')))} |"
        )
    return [*rows, ""]


def _body_line(operation: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    body = _resolve(spec, operation.get("requestBody"))
    if not body:
        return []
    schemas = spec["components"]["schemas"]
    parts = []
    for content_type, content in body.get("content", {}).items():
        name = _ref_name(content.get("schema"))
        parts.append(f"{_link(name, schemas) if name else 'an inline schema'} as `{content_type}`")
    required = "required" if body.get("required") else "optional"
    return [f"**Request body** ({required}): {', '.join(parts)}", ""]


def _success_lines(operation: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    schemas = spec["components"]["schemas"]
    lines = []
    for status, response in operation["responses"].items():
        if not str(status).startswith("2"):
            continue
        response = _resolve(spec, response)
        names = [_ref_name(c.get("schema")) for c in response.get("content", {}).values()]
        model = ", ".join(_link(n, schemas) if n else "an inline schema" for n in names) or "no body"
        lines.append(f"**Returns** {status}: {model}. {_one_line(_text(response.get('description')))}")
    return [*lines, ""]


def _errors_table(operation: dict[str, Any], meanings: dict[str, str]) -> list[str]:
    codes_by_status: dict[str, list[str]] = operation.get("x-error-codes", {})
    if not codes_by_status:
        return []
    rows = ["**Errors**", "", "| status | code | meaning |", "|---|---|---|"]
    for status, codes in codes_by_status.items():
        rows.extend(f"| {status} | `{code}` | {_cell(meanings.get(code, ''))} |" for code in codes)
    return [*rows, ""]


def _operation_section(
    path: str,
    method: str,
    operation: dict[str, Any],
    endpoint: Endpoint,
    tag_module: str,
    parsed: Parsed,
    resource_call: tuple[str, resources.Method],
) -> list[str]:
    spec = parsed.spec
    module = str(endpoint.name)
    lines = [
        f"### {operation['operationId']}",
        "",
        f"`{method.upper()} {path}`: {_one_line(_text(operation.get('summary')))}",
        "",
    ]
    description = _text(operation.get("description")).strip()
    if description:
        lines += [description, ""]
    lines += ["**Resource client**", "", "```python", *resource_calls(*resource_call), "```", ""]
    lines += [
        "**Operation functions**",
        "",
        "```python",
        f"from {PACKAGE}.api.{tag_module}.{module} import sync, sync_detailed, asyncio, asyncio_detailed",
        "",
        *operation_signatures(endpoint, parsed),
        "```",
        "",
    ]
    lines += _parameters_table(operation, endpoint, spec)
    lines += _body_line(operation, spec)
    lines += _success_lines(operation, spec)
    lines += _errors_table(operation, _code_meanings(spec))
    return lines


def _webhooks_section(spec: dict[str, Any]) -> list[str]:
    webhooks: dict[str, Any] = spec.get("webhooks", {})
    if not webhooks:
        return []
    schemas = spec["components"]["schemas"]
    lines = [
        "## Webhook events",
        "",
        "The API POSTs these events to the account's webhook URL, signed as Standard Webhooks do (`webhook-id`,",
        "`webhook-timestamp` and `webhook-signature` headers). `cadenya.webhooks.verify(payload, headers, secret)`",
        "checks the signature and returns the event as its payload model, or as `WebhookEvent` for a kind this",
        "version of the SDK does not know.",
        "",
        "| event | payload | what happened |",
        "|---|---|---|",
    ]
    for event, item in webhooks.items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            operation = item[method]
            body = _resolve(spec, operation.get("requestBody", {}))
            names = [_ref_name(c.get("schema")) for c in body.get("content", {}).values()]
            payload = ", ".join(_link(n, schemas) if n else "an inline schema" for n in names)
            what = _one_line(f"{_text(operation.get('summary'))}. {_text(operation.get('description'))}")
            lines.append(f"| `{event}` | {payload} | {_cell(what)} |")
    return [*lines, ""]


def _model_fields(model: ModelProperty) -> list[Property]:
    return [*(model.required_properties or []), *(model.optional_properties or [])]


def _declared_properties(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The properties `schema` declares, its `allOf` parts' included, as written in the spec."""
    found: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        found.update(_declared_properties(spec, _resolve(spec, part)))
    found.update(schema.get("properties", {}))
    return found


def _first_sentence(text: str) -> str:
    sentence, stop, _ = _one_line(text).partition(". ")
    return sentence + stop.strip()


def _field_description(declared: dict[str, Any], description: str, schemas: dict[str, Any]) -> str:
    """A field's description; for a field that is only a reference, a link and the model's first sentence."""
    name = _ref_name(declared)
    if name and name in schemas and "description" not in declared:
        description = ": ".join(part for part in (_link(name, schemas), _first_sentence(description)) if part)
    access = [label for key, label in (("readOnly", "Read-only"), ("writeOnly", "Write-only")) if declared.get(key)]
    return " ".join([*(f"*{label}.*" for label in access), description])


def _model_section(name: str, schema: dict[str, Any], parsed: Parsed) -> list[str]:
    spec = parsed.spec
    schemas = spec["components"]["schemas"]
    models = {_text(m.name).removeprefix(SCHEMAS_PREFIX): m for m in parsed.openapi.models}
    enums = {_text(e.name).removeprefix(SCHEMAS_PREFIX): e for e in parsed.openapi.enums}
    lines = [f"### {name}", ""]
    description = _text(schema.get("description")).strip()
    if description:
        lines += [description, ""]
    if name in enums:
        lines += [f"`from {PACKAGE}.models import {enums[name].class_info.name}`: a string, one of:", ""]
        meanings = schema.get("x-enum-descriptions", [])
        if meanings:
            lines += ["| value | meaning |", "|---|---|"]
            lines += [f"| `{v}` | {_cell(m)} |" for v, m in zip(schema["enum"], meanings, strict=True)]
        else:
            lines += [f"- `{value}`" for value in schema["enum"]]
        lines += [
            "",
            "In an answer, a value this version of the SDK does not know arrives as an `UnrecognizedStr`.",
            "",
        ]
    elif name in models:
        model = models[name]
        lines += [f"`from {PACKAGE}.models import {model.class_info.name}`", ""]
        fields = _model_fields(model)
        if fields:
            lines += ["| field | Python | type | required | description |", "|---|---|---|---|---|"]
            declared = _declared_properties(spec, schema)
            for prop in fields:
                description = _field_description(declared.get(_text(prop.name), {}), _text(prop.description), schemas)
                lines.append(
                    f"| `{_text(prop.name)}` | `{prop.python_name}` | `{_cell(_code(prop.get_type_string(no_optional=True)))}` "
                    f"| {'yes' if prop.required else 'no'} | {_cell(description)} |"
                )
            lines.append("")
        elif isinstance(model.additional_properties, Property):
            value = _code(model.additional_properties.get_type_string(no_optional=True))
            lines += [f"A map of `str` keys to `{value}` values, read and written like a `dict`.", ""]
    elif "oneOf" in schema or "anyOf" in schema:
        choices = [_ref_name(s) for s in schema.get("oneOf", schema.get("anyOf", []))]
        linked = ", ".join(_link(c, schemas) if c else "an inline schema" for c in choices)
        lines += [f"One of: {linked}. In Python, a union of their models.", ""]
    else:
        constraints = [f"{key} `{schema[key]}`" for key in ("pattern", "minLength", "maxLength") if key in schema]
        kind = f"A `{schema.get('type', 'value')}`" + (f" ({', '.join(constraints)})" if constraints else "")
        lines += [f"{kind}; in Python, a plain `{'str' if schema.get('type') == 'string' else 'value'}`.", ""]
    return lines


def render(parsed: Parsed) -> str:
    """api.md for the spec and parse in `parsed`."""
    spec = parsed.spec
    endpoints = {
        (_path_shape(_text(e.path)), _text(e.method)): (str(tag), e)
        for tag, collection in parsed.openapi.endpoint_collections_by_tag.items()
        for e in collection.endpoints
    }
    calls = _resource_methods(parsed)
    tag_names = [str(tag["name"]) for tag in spec.get("tags", [])]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, method, operation in _operations(spec):
        tag = operation.get("tags", ["default"])[0]
        if tag not in tag_names:
            tag_names.append(tag)
        by_tag.setdefault(tag, []).append((path, method, operation))

    info = spec.get("info", {})
    title = _text(info.get("title")) or "API"
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    contents = ["## Contents", ""]
    body: list[str] = []
    for tag in tag_names:
        operations = by_tag.get(tag, [])
        if not operations:
            continue
        heading = f"Resource: {tag}"
        contents.append(
            f"- [{heading}](#{anchor(heading)}): "
            + ", ".join(f"[{op['operationId']}](#{anchor(op['operationId'])})" for _, _, op in operations)
        )
        tag_description = next((_text(t.get("description")) for t in spec.get("tags", []) if t["name"] == tag), "")
        body += [f"## {heading}", ""]
        if tag_description:
            body += [tag_description, ""]
        for path, method, operation in operations:
            tag_module, endpoint = endpoints[(_path_shape(path), method)]
            body += _operation_section(path, method, operation, endpoint, tag_module, parsed, calls[str(endpoint.name)])
    webhooks = _webhooks_section(spec)
    if webhooks:
        contents.append(f"- [Webhook events](#{anchor('Webhook events')})")
    contents.append("- [Models](#models): " + ", ".join(f"[{n}](#{anchor(n)})" for n in schemas))
    models = ["## Models", ""]
    for name, schema in schemas.items():
        models += _model_section(name, schema, parsed)

    document = [
        HEADER,
        f"# {title} reference",
        "",
        f"API version {_text(info.get('version'))}. Python package `{PACKAGE}`.",
        "",
        INTRO,
        *contents,
        "",
        *body,
        *webhooks,
        *models,
    ]
    text = "\n".join(document)
    check_anchors(text)
    return text.rstrip("\n") + "\n"


def check_anchors(text: str) -> None:
    """Every heading's id is unique and every in-page link names one: GitHub would silently break either."""
    ids: list[str] = []
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            ids.append(anchor(line.lstrip("#")))
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"api.md would have headings with the same id: {duplicates}")
    missing = sorted(set(re.findall(r"\]\(#([^)]+)\)", text)) - set(ids))
    if missing:
        raise ValueError(f"api.md would link to headings it does not have, which leads nowhere: {missing}")


def render_file(
    spec_path: Path, *, package: Path | None = None, config_path: Path = CONFIG, templates: Path = TEMPLATES
) -> str:
    """api.md for the spec at `spec_path`, read with the project's generator config and templates.

    `package` is the package generated from that spec; without it, one is generated for the occasion."""
    if package is not None:
        return render(parse(spec_path=spec_path, config_path=config_path, templates=templates, package=package))
    from scripts import generate  # it imports this module

    with tempfile.TemporaryDirectory(prefix="cadenya-apiref-") as temporary:
        generate.generate(Path(temporary), spec_path)
        return render_file(spec_path, package=Path(temporary) / PACKAGE, config_path=config_path, templates=templates)


def expected(path: Path = API_MD, spec_path: Path = SPEC, package: Path | None = None) -> tuple[str, str]:
    """api.md as it is (empty when missing), and as the spec and its generated `package` say it should be."""
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    return current, render_file(spec_path, package=package)
