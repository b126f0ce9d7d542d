"""Generate the resource layer (`Cadenya().api_keys.create(...)`) from the same spec, config and parser as
the per-operation modules, so the two layers cannot disagree on a name or a type.

Called by scripts/generate.py after openapi-python-client has written the package; writes
`cadenya/_client.py` and `cadenya/resources/`.

The naming rule (also in the README): an operation's tag is its resource (`api_keys` -> `client.api_keys`).
Its operationId is a verb followed by a noun phrase. When the noun phrase is the tag's own noun (singular
or plural), the method is the verb: `createApiKey` -> `client.api_keys.create`, `listApiKeys` ->
`client.api_keys.list`. When it is the tag's noun followed by more words, those words name a sub-resource:
`listApiKeyWorkspaces` -> `client.api_keys.workspaces.list`, `createServiceAccountCredential` ->
`client.service_accounts.credentials.create`. Otherwise the method is the whole operationId in snake_case:
`rotateWebhookSecret` -> `client.account.rotate_webhook_secret`.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment
from openapi_python_client import Project
from openapi_python_client.config import Config, ConfigFile, MetaType
from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.openapi import Endpoint
from openapi_python_client.parser.properties import ModelProperty, Property
from openapi_python_client.parser.properties.list_property import ListProperty
from openapi_python_client.schema.untrusted_string import UntrustedString

PLAIN_VALUE_PROPERTIES = ("StringProperty", "IntProperty", "FloatProperty", "BooleanProperty")


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def name_of(tag: str, operation: str) -> tuple[str | None, str]:
    """(sub-resource attribute or None, method name) of an operation, by the rule in the module docstring.

    `tag` and `operation` are the generator's snake_case identifiers (`api_keys`, `create_api_key`), which
    it has already made safe to use as Python names.
    """
    verb, *noun = operation.split("_")
    tag_noun = tag.split("_")
    tag_noun[-1] = _singular(tag_noun[-1])
    if noun and [*noun[:-1], _singular(noun[-1])] == tag_noun:
        name: tuple[str | None, str] = (None, verb)
    elif len(noun) > len(tag_noun) and noun[: len(tag_noun)] == tag_noun:
        rest = noun[len(tag_noun) :]
        rest[-1] = _singular(rest[-1]) + "s"
        name = ("_".join(rest), verb)
    else:
        name = (None, operation)
    for part in name:
        if part is not None and (not part.isidentifier() or keyword.iskeyword(part)):
            raise ValueError(f"{operation!r} does not give a usable method name ({part!r})")
    return name


def _code(value: Any) -> str:
    """Generated code as text. Inside a resource class a method is called `list`, so the builtin is spelled
    `builtins.list` there."""
    text = str(value.as_unembedded_code()) if hasattr(value, "as_unembedded_code") else str(value)
    return re.sub(r"(?<![\w.])list\[", "builtins.list[", text)


def _fields_of(model: ModelProperty) -> list[Property]:
    return [*(model.required_properties or []), *(model.optional_properties or [])]


def _is_plain_map(prop: Property) -> bool:
    return (
        isinstance(prop, ModelProperty)
        and not prop.required_properties
        and not prop.optional_properties
        and type(prop.additional_properties).__name__ in PLAIN_VALUE_PROPERTIES
    )


@dataclass
class Field:
    """A parameter of a resource method, with its declaration in each signature."""

    name: str
    type: str  # without Unset
    required: bool
    description: Any  # untrusted: templates pass it through safe_for_docstring

    @property
    def declaration(self) -> str:
        """As the operation takes it: required, or `| Unset = UNSET`."""
        return f"{self.name}: {self.type}" if self.required else f"{self.name}: {self.type} | Unset = UNSET"

    @property
    def optional_declaration(self) -> str:
        """Always optional (the implementation behind overloads)."""
        return f"{self.name}: {self.type} | Unset = UNSET"


def _field(prop: Property) -> Field:
    type_string = _code(prop.get_type_string(no_optional=True))
    if isinstance(prop, ModelProperty) and _is_plain_map(prop):
        value = _code(prop.additional_properties.get_type_string())  # type: ignore[union-attr]  # a Property here
        type_string = f"{type_string} | Mapping[str, {value}]"
    return Field(str(prop.python_name), type_string, bool(prop.required), prop.description or "")


@dataclass
class Method:
    """One operation, as a method of its resource."""

    name: str
    module: str
    endpoint: Endpoint
    path: list[Field]
    query: list[Field]
    headers: list[Field]
    body_model: str | None
    body: list[Field]
    returns: str  # the success model's type, or "None"
    page_model: str | None = None  # a list answer's model, when the operation is a list
    item: str | None = None

    @property
    def summary(self) -> Any:
        """The operation's summary, an untrusted string: templates pass it through safe_for_docstring."""
        return self.endpoint.summary

    @property
    def description(self) -> Any:
        return self.endpoint.description

    @property
    def required_body(self) -> list[Field]:
        return [f for f in self.body if f.required]


@dataclass
class Resource:
    attribute: str
    class_name: str
    description: Any  # untrusted
    path: str  # how users reach it: client.api_keys.workspaces
    methods: list[Method] = field(default_factory=list)
    children: list[Resource] = field(default_factory=list)


def _success(endpoint: Endpoint) -> Property:
    return next(r.prop for r in endpoint.responses.patterns if 200 <= (r.status_code.range or (0, 0))[0] < 300)


def _method(name: str, endpoint: Endpoint) -> Method:
    success = _success(endpoint)
    body = endpoint.bodies[0].prop if endpoint.bodies else None
    returns = "None" if type(success).__name__ == "AnyProperty" else _code(success.get_type_string())
    method = Method(
        name=name,
        module=str(endpoint.name),
        endpoint=endpoint,
        path=[_field(p) for p in endpoint.path_parameters],
        query=[_field(p) for p in endpoint.query_parameters],
        headers=[_field(p) for p in endpoint.header_parameters],
        body_model=_code(body.get_type_string(no_optional=True)) if body is not None else None,
        body=[_field(p) for p in _fields_of(body)] if isinstance(body, ModelProperty) else [],
        returns=returns,
    )
    if isinstance(success, ModelProperty):
        names = {str(p.python_name): p for p in _fields_of(success)}
        items = names.get("items")
        if (
            isinstance(items, ListProperty)
            and "next_page_token" in names
            and any(f.name == "page_token" for f in method.query)
        ):
            method.page_model = returns
            method.item = _code(items.inner_property.get_type_string())
    return method


def _imports(endpoints: list[Endpoint]) -> list[str]:
    lines: set[str] = set()
    for endpoint in endpoints:
        props: list[Any] = [*endpoint.path_parameters, *endpoint.query_parameters, *endpoint.header_parameters]
        for response in endpoint.responses.patterns:
            props.append(response.prop)
            if isinstance(response.prop, ModelProperty):  # a list's item model (ruff drops what is unused)
                props += [p.inner_property for p in _fields_of(response.prop) if isinstance(p, ListProperty)]
        for body in endpoint.bodies:
            props.append(body.prop)
            if isinstance(body.prop, ModelProperty):
                props += _fields_of(body.prop)
        for prop in props:
            found = set(prop.get_imports(prefix=".."))
            if hasattr(prop, "get_lazy_imports"):
                found |= set(prop.get_lazy_imports(prefix=".."))
            lines.update(line for line in found if line.startswith("from ..models"))
    return sorted(lines)


def plan(openapi: GeneratorData, spec: dict[str, Any]) -> list[tuple[Resource, list[str], list[str]]]:
    """Each tag's resource tree, the operation modules it calls and the model imports it needs."""
    descriptions = {str(tag["name"]): UntrustedString(str(tag.get("description", ""))) for tag in spec.get("tags", [])}
    planned = []
    for tag, collection in sorted(openapi.endpoint_collections_by_tag.items()):
        tag_name = str(tag)
        base = "".join(part.capitalize() for part in tag_name.split("_"))
        root = Resource(tag_name, base, descriptions.get(tag_name, UntrustedString("")), f"client.{tag_name}")
        children: dict[str, Resource] = {}
        for endpoint in collection.endpoints:
            child, name = name_of(tag_name, str(endpoint.name))
            target = root
            if child is not None:
                if child not in children:
                    singular = _singular(base)
                    class_name = singular + "".join(part.capitalize() for part in child.split("_"))
                    children[child] = Resource(child, class_name, UntrustedString(""), f"client.{tag_name}.{child}")
                    root.children.append(children[child])
                target = children[child]
            target.methods.append(_method(name, endpoint))
        modules = sorted(str(endpoint.name) for endpoint in collection.endpoints)
        planned.append((root, modules, _imports(collection.endpoints)))
    return planned


@dataclass
class Parsed:
    """The spec as read from disk, the generator's reading of it, and its template environment."""

    spec: dict[str, Any]
    openapi: GeneratorData
    env: Environment


def parse(*, spec_path: Path, config_path: Path, templates: Path, output: Path) -> Parsed:
    """Read `spec_path` the way openapi-python-client does when it writes a package to `output`."""
    config = Config.from_sources(
        ConfigFile.load_from_path(config_path), MetaType.NONE, spec_path, "utf-8", True, output
    )
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    openapi = GeneratorData.from_dict(spec, config=config)
    if not isinstance(openapi, GeneratorData):
        raise RuntimeError(f"the spec does not parse: {openapi.detail}")
    return Parsed(spec, openapi, Project(openapi=openapi, config=config, custom_template_path=templates).env)


def write(package_dir: Path, *, spec_path: Path, config_path: Path, templates: Path) -> list[Path]:
    """Render the resource layer into the generated package at `package_dir`; the files written."""
    parsed = parse(spec_path=spec_path, config_path=config_path, templates=templates, output=package_dir)
    env = parsed.env
    planned = plan(parsed.openapi, parsed.spec)
    written: list[Path] = []
    resources_dir = package_dir / "resources"
    resources_dir.mkdir(exist_ok=True)
    module_template = env.get_template("resources/resource_module.py.jinja")
    for resource, modules, imports in planned:
        target = resources_dir / f"{resource.attribute}.py"
        target.write_text(
            module_template.render(resource=resource, modules=modules, model_imports=imports), encoding="utf-8"
        )
        written.append(target)
    roots = [resource for resource, _, _ in planned]
    init = resources_dir / "__init__.py"
    init.write_text(env.get_template("resources/resources_init.py.jinja").render(resources=roots), encoding="utf-8")
    client = package_dir / "_client.py"
    client.write_text(env.get_template("resources/client.py.jinja").render(resources=roots), encoding="utf-8")
    return [*written, init, client]
