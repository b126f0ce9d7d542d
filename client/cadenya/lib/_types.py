"""The shared types of the generated code, re-exported by `cadenya.types`: `UNSET` and `Unset` (a field or
argument left out), `Response` (what the `*_detailed` call styles return), `File`, `UnrecognizedStr`,
`UnmatchedVariant`, and the helpers the models' `to_dict()`, `to_json()` and `repr()` use.

It imports nothing of the package, so every module (generated or not) can import it.
"""

import json
import re
from collections.abc import Mapping, MutableMapping
from http import HTTPStatus
from typing import IO, Any, BinaryIO, Generic, Literal, NewType, TypeVar

from attrs import define, field


class Unset:
    """The type of `UNSET`: a field or argument that was left out.

    `None` is not enough, because `None` is a value the API can send or receive (JSON `null`); `UNSET`
    means the field is absent from the JSON altogether, so a PATCH leaves it unchanged.
    """

    __module__ = "cadenya.types"  # where users import it from; also what copy and pickle resolve UNSET in
    __slots__ = ()

    def __new__(cls) -> "Unset":
        # One instance only, so that `value is UNSET` holds wherever a value came from.
        try:
            return UNSET
        except NameError:  # making UNSET itself, below
            return super().__new__(cls)

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "UNSET"

    def __reduce__(self) -> str:
        # copy, deepcopy and pickle give back the module's UNSET, not a new object that `is UNSET` would miss.
        return "UNSET"


UNSET: Unset = Unset()


_SECRET_PREFIX = re.compile(r"[a-z]{1,4}_(?:[a-z]{1,4}_)?")


def masked(value: object) -> str:
    """How `repr()` and `str()` show a field that the spec marks `format: password` (a token, a secret).

    Only the kind of credential is shown, from its fixed prefix (`'cad_key_***'`, `'wh_***'`), and only when
    what follows is long enough to stay secret; the value itself is still in the field and in `to_dict()`.
    """
    if value is UNSET or value is None:
        return repr(value)
    if not isinstance(value, str):
        return "'***'"
    prefix = _SECRET_PREFIX.match(value)
    if prefix is None or len(value) - prefix.end() < 16:
        return "'***'"
    return f"'{prefix.group()}***'"


def json_text(value: dict[str, Any], indent: int | None) -> str:
    """A model's dict as JSON text, as `to_json()` gives it: key order kept, non-ASCII text as it is."""
    return json.dumps(value, indent=indent, ensure_ascii=False)


def with_nulls(
    encoded: dict[str, Any], declared: tuple[tuple[str, object], ...], additional: Mapping[str, object]
) -> dict[str, Any]:
    """`encoded` (a model's `to_dict()`) with every declared field, a field left out as None.

    `declared` pairs each field's JSON key with its value on the object, in the order `to_dict()` puts
    them; the additional properties come first, as there. Nested objects get their left-out fields too.
    """
    keys = {key for key, _ in declared}
    full = {key: _nulls_in(additional.get(key), value) for key, value in encoded.items() if key not in keys}
    for key, value in declared:
        full[key] = None if value is UNSET else _nulls_in(value, encoded[key])
    return full


def _nulls_in(value: object, encoded: Any) -> Any:
    """`encoded`, the JSON form of `value`, with the left-out fields of every object in it as None."""
    nulls = getattr(value, "_to_dict_with_nulls", None)
    if nulls is not None:
        return nulls()
    if isinstance(value, list) and isinstance(encoded, list):
        return [_nulls_in(item, item_encoded) for item, item_encoded in zip(value, encoded, strict=True)]
    return encoded


# The types that `httpx.Client(files=)` can accept, copied from that library.
FileContent = IO[bytes] | bytes | str
FileTypes = (
    # (filename, file (or bytes), content_type)
    tuple[str | None, FileContent, str | None]
    # (filename, file (or bytes), content_type, headers)
    | tuple[str | None, FileContent, str | None, Mapping[str, str]]
)
RequestFiles = list[tuple[str, FileTypes]]


@define
class File:
    """A file to upload, as multipart/form-data."""

    __module__ = "cadenya.types"

    payload: BinaryIO
    file_name: str | None = None
    mime_type: str | None = None

    def to_tuple(self) -> FileTypes:
        """The (file name, payload, content type) tuple httpx accepts for multipart/form-data."""
        return self.file_name, self.payload, self.mime_type


UnrecognizedStr = NewType("UnrecognizedStr", str)
"""An enum value this version of the SDK does not know, kept as the string the API sent.

Response enums are typed `Literal[...] | UnrecognizedStr`, so a value added by a later API neither breaks
the call nor gets lost, and a type checker makes you handle it after matching the known values.
"""


UnrecognizedStr.__module__ = "cadenya.types"


class UnmatchedVariant(TypeError):
    """A body that fits none of the shapes a `oneOf` documents, as a later API may send."""

    __module__ = "cadenya.types"


T = TypeVar("T")


@define
class Response(Generic[T]):
    """A response of an operation: its status, headers, body, and the body parsed (`*_detailed` call styles)."""

    __module__ = "cadenya.types"

    status_code: HTTPStatus
    content: bytes = field(repr=lambda content: f"<{len(content)} bytes>")
    """The body as received. `repr()` shows its size only: a body may carry a token or a secret."""
    headers: MutableMapping[str, str]
    parsed: T | None

    @property
    def request_id(self) -> str | None:
        """The `X-Request-Id` the API gave this response: quote it when reporting a problem."""
        return self.headers.get("x-request-id")


__all__ = [
    "UNSET",
    "File",
    "FileContent",
    "FileTypes",
    "RequestFiles",
    "Response",
    "UnmatchedVariant",
    "UnrecognizedStr",
    "Unset",
    "json_text",
    "masked",
    "with_nulls",
]
