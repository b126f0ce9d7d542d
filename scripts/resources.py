"""Generate the resource layer (`Cadenya().api_keys.create(...)`) from the spec and the operation modules and
models openapi-python-client has just written, so the two layers cannot disagree on a name or a type.

Called by scripts/generate.py after openapi-python-client has written the package; writes
`cadenya/_client.py` and `cadenya/resources/`. It reads only the generator's output, never its internals:
the spec gives the structure (tags, operations in order, which parameter is a header, descriptions, which
schema is a plain string map), the generated code the Python names and types (the signature of each
module's `sync_detailed`, the fields of each model, the imports of both), by `ast`, without importing it.

The naming rule (also in the README): an operation's tag is its resource (`api_keys` -> `client.api_keys`).
Its operationId is a verb followed by a noun phrase. When the noun phrase is the tag's own noun (singular
or plural), the method is the verb: `createApiKey` -> `client.api_keys.create`, `listApiKeys` ->
`client.api_keys.list`. When it is the tag's noun followed by more words, those words name a sub-resource:
`listApiKeyWorkspaces` -> `client.api_keys.workspaces.list`, `createServiceAccountCredential` ->
`client.service_accounts.credentials.create`. Otherwise the method is the whole operationId in snake_case:
`rotateWebhookSecret` -> `client.account.rotate_webhook_secret`.
"""

from __future__ import annotations

import ast
import keyword
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PLAIN_VALUE_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


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


def _key(name: str) -> str:
    """A spec name and the generator's Python name for it compare equal by their letters and digits alone:
    `Idempotency-Key` and `idempotency_key`, `expand[]` and `expand`, `createApiKey` and `create_api_key`."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _code(text: str) -> str:
    """Inside a resource class a method is called `list`, so the builtin is spelled `builtins.list` there."""
    return re.sub(r"(?<![\w.])list\[", "builtins.list[", text)


def _without_unset(annotation: str) -> str:
    return annotation.removesuffix(" | Unset")


def safe_for_docstring(value: Any) -> str:
    """Spec text made safe inside a generated docstring: no control characters, backslashes or `\"\"\"`."""
    text = "".join(c for c in str(value) if unicodedata.category(c) != "Cc" or c in "\n\r\t")
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


@dataclass
class Field:
    """A parameter of a resource method, with its declaration in each signature."""

    name: str
    type: str  # without Unset
    required: bool
    description: str  # spec text: templates pass it through safe_for_docstring

    @property
    def declaration(self) -> str:
        """As the operation takes it: required, or `| Unset = UNSET`."""
        return f"{self.name}: {self.type}" if self.required else f"{self.name}: {self.type} | Unset = UNSET"

    @property
    def optional_declaration(self) -> str:
        """Always optional (the implementation behind overloads)."""
        return f"{self.name}: {self.type} | Unset = UNSET"


@dataclass
class Method:
    """One operation, as a method of its resource."""

    name: str
    module: str
    summary: str  # spec text, as Field.description
    description: str
    path: list[Field]
    query: list[Field]
    headers: list[Field]
    body_model: str | None
    body: list[Field]
    returns: str  # the success model's type, or "None"
    page_model: str | None = None  # a list answer's model, when the operation is a list
    item: str | None = None

    @property
    def required_body(self) -> list[Field]:
        return [f for f in self.body if f.required]


@dataclass
class Resource:
    attribute: str
    class_name: str
    description: str  # spec text
    path: str  # how users reach it: client.api_keys.workspaces
    methods: list[Method] = field(default_factory=list)
    children: list[Resource] = field(default_factory=list)


class _Spec:
    """The spec, with its local `$ref`s followed."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in str(node["$ref"]).removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def plain_map_value(self, schema: Any) -> str | None:
        """`str` for an object of string values alone (Labels): the value type a plain dict may have."""
        schema = self.resolve(schema)
        if not isinstance(schema, dict) or schema.get("properties") or schema.get("type") != "object":
            return None
        values = self.resolve(schema.get("additionalProperties"))
        return PLAIN_VALUE_TYPES.get(values.get("type", "")) if isinstance(values, dict) else None


class _Module:
    """A generated module, read with `ast`: its model imports and the definitions in it."""

    def __init__(self, path: Path) -> None:
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.model_imports: dict[str, str] = {}  # class -> models module, from any import of the module
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("models."):
                for alias in node.names:
                    self.model_imports[alias.asname or alias.name] = node.module.removeprefix("models.")

    def success_type(self) -> str:
        """The type of the first success row of the module's `_RESPONSES` table (cadenya.lib._responses)."""
        table = next(
            n.value
            for n in self.tree.body
            if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.target.id == "_RESPONSES"
        )
        rows = table.args if isinstance(table, ast.Call) else []
        for row in rows:
            if not (isinstance(row, ast.Tuple) and isinstance(row.elts[1], ast.Constant)):
                raise ValueError(f"a row of _RESPONSES that is not (reader, patterns, ...): {ast.unparse(row)}")
            reader, patterns = row.elts[0], row.elts[1]
            if not any(str(p).startswith("2") for p in str(patterns.value).split()):
                continue
            if isinstance(reader, ast.Constant) and reader.value is None:
                return "None"
            if isinstance(reader, ast.Attribute) and reader.attr == "from_dict":
                return ast.unparse(reader.value)
            if isinstance(reader, ast.Name) and reader.id != "as_is":
                returns = self.function(reader.id).returns
                if returns is not None:
                    return ast.unparse(returns)
            raise ValueError(f"cannot tell the success type of {ast.unparse(row)}")
        raise ValueError("the operation documents no success answer")

    def function(self, name: str) -> ast.FunctionDef:
        return next(n for n in self.tree.body if isinstance(n, ast.FunctionDef) and n.name == name)

    def fields(self, class_name: str) -> list[tuple[str, str, bool]]:
        """(name, annotation, required) of each `__init__` field of an attrs model class, in order."""
        model = next(n for n in self.tree.body if isinstance(n, ast.ClassDef) and n.name == class_name)
        found = []
        for node in model.body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id[0] != "_":
                found.append((node.target.id, ast.unparse(node.annotation), node.value is None))
        return found


class _Package:
    """The package openapi-python-client wrote: operation modules under api/, models under models/."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._models: dict[str, _Module] = {}

    def operation(self, tag: str, module: str) -> _Module:
        return _Module(self.root / "api" / tag / f"{module}.py")

    def model(self, module: str) -> _Module:
        if module not in self._models:
            self._models[module] = _Module(self.root / "models" / f"{module}.py")
        return self._models[module]

    def operation_modules(self, tag: str) -> dict[str, str]:
        """Each operation module of a tag, by the `_key` of its name."""
        return {_key(p.stem): p.stem for p in (self.root / "api" / tag).glob("*.py") if p.name != "__init__.py"}

    def tags(self) -> dict[str, str]:
        """Each tag package under api/, by the `_key` of its name."""
        return {_key(p.name): p.name for p in (self.root / "api").iterdir() if (p / "__init__.py").is_file()}


def _field(name: str, annotation: str, required: bool, description: str, map_value: str | None) -> Field:
    type_string = _code(_without_unset(annotation))
    if map_value is not None:
        type_string = f"{type_string} | Mapping[str, {map_value}]"
    return Field(name, type_string, required, description)


def _method(
    name: str, module_name: str, operation: dict[str, Any], spec: _Spec, package: _Package, tag: str
) -> tuple[Method, set[str]]:
    """The method of one operation, and the model imports (`from ..models.x import X`) it may need."""
    module = package.operation(tag, module_name)
    function = module.function("sync_detailed")
    parameters = {_key(str(p["name"])): p for p in map(spec.resolve, operation.get("parameters", []))}
    imports = {f"from ..models.{where} import {what}" for what, where in module.model_imports.items()}

    def described(arg: ast.arg, required: bool) -> Field:
        parameter = parameters.get(_key(arg.arg), {})
        schema = parameter.get("schema", {})
        annotation = ast.unparse(arg.annotation) if arg.annotation else "Any"
        description = str(parameter.get("description") or spec.resolve(schema).get("description", ""))
        return _field(arg.arg, annotation, required, description, spec.plain_map_value(schema))

    path = [described(arg, True) for arg in function.args.args]
    query: list[Field] = []
    headers: list[Field] = []
    body_model: str | None = None
    body: list[Field] = []
    defaults = function.args.kw_defaults
    for arg, default in zip(function.args.kwonlyargs, defaults, strict=True):
        if arg.arg == "client":
            continue
        if arg.arg == "body":
            body_model = _code(_without_unset(ast.unparse(arg.annotation))) if arg.annotation else None
            continue
        where = parameters.get(_key(arg.arg), {}).get("in")
        (headers if where == "header" else query).append(described(arg, default is None))
    if body_model is not None and body_model in module.model_imports:
        model = package.model(module.model_imports[body_model])
        imports |= {f"from ..models.{where} import {what}" for what, where in model.model_imports.items()}
        content = spec.resolve(operation["requestBody"])["content"]
        schema = spec.resolve(next(iter(content.values()))["schema"])
        properties = {_key(str(k)): v for k, v in schema.get("properties", {}).items()}
        for field_name, annotation, required in model.fields(body_model):
            prop = properties.get(_key(field_name), {})
            description = str(prop.get("description") or spec.resolve(prop).get("description", ""))
            body.append(_field(field_name, annotation, required, description, spec.plain_map_value(prop)))
    returns = module.success_type()
    method = Method(
        name=name,
        module=module_name,
        summary=str(operation.get("summary", "")),
        description=str(operation.get("description", "")),
        path=path,
        query=query,
        headers=headers,
        body_model=body_model,
        body=body,
        returns=_code(returns),
    )
    if returns in module.model_imports and any(f.name == "page_token" for f in method.query):
        page = package.model(module.model_imports[returns])
        fields = {n: a for n, a, _ in page.fields(returns)}
        listed = re.fullmatch(r"list\[(\w+)\]", _without_unset(fields.get("items", "")))
        if listed and "next_page_token" in fields:
            method.page_model, method.item = returns, listed[1]
            imports |= {f"from ..models.{where} import {what}" for what, where in page.model_imports.items()}
    return method, imports


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation in the order of `paths`, with the parameters its path item declares for all of them."""
    found = []
    for item in document.get("paths", {}).values():
        for verb in HTTP_METHODS:
            if verb in item:
                found.append(
                    {**item[verb], "parameters": [*item.get("parameters", []), *item[verb].get("parameters", [])]}
                )
    return found


def plan(package_dir: Path, document: dict[str, Any]) -> list[tuple[Resource, list[str], list[str]]]:
    """Each tag's resource tree, the operation modules it calls and the model imports it needs."""
    spec, package = _Spec(document), _Package(package_dir)
    descriptions = {_key(str(tag["name"])): str(tag.get("description", "")) for tag in document.get("tags", [])}
    tags = package.tags()
    by_tag: dict[str, list[dict[str, Any]]] = {}
    for operation in _operations(document):
        tag_key = _key(str((operation.get("tags") or ["default"])[0]))
        by_tag.setdefault(tags[tag_key], []).append(operation)
    planned = []
    for tag_name in sorted(by_tag):
        base = "".join(part.capitalize() for part in tag_name.split("_"))
        root = Resource(tag_name, base, descriptions.get(_key(tag_name), ""), f"client.{tag_name}")
        children: dict[str, Resource] = {}
        modules = package.operation_modules(tag_name)
        imports: set[str] = set()
        for operation in by_tag[tag_name]:
            module_name = modules[_key(str(operation["operationId"]))]
            child, name = name_of(tag_name, module_name)
            target = root
            if child is not None:
                if child not in children:
                    class_name = _singular(base) + "".join(part.capitalize() for part in child.split("_"))
                    children[child] = Resource(child, class_name, "", f"client.{tag_name}.{child}")
                    root.children.append(children[child])
                target = children[child]
            method, needed = _method(name, module_name, operation, spec, package, tag_name)
            target.methods.append(method)
            imports |= needed
        planned.append((root, sorted(modules.values()), sorted(imports)))
    return planned


def environment(templates: Path) -> Environment:
    """The Jinja environment of the resource templates: openapi-python-client's settings, this module's filters."""
    env = Environment(
        loader=FileSystemLoader(templates),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701  (Python source, not HTML)
    )
    env.filters["safe_for_docstring"] = safe_for_docstring
    return env


def write(package_dir: Path, *, spec_path: Path, templates: Path) -> list[Path]:
    """Render the resource layer into the generated package at `package_dir`; the files written."""
    env = environment(templates)
    planned = plan(package_dir, yaml.safe_load(spec_path.read_text(encoding="utf-8")))
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
