"""The committed client is exactly what the pinned generator makes of the committed inputs."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from scripts import generate as generation
from scripts import readme

CLIENT = generation.CLIENT


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    destination = tmp_path_factory.mktemp("regenerated")
    generation.generate(destination)
    return destination


def test_committed_client_matches_a_fresh_generation(regenerated: Path) -> None:
    """Regenerating into a temporary directory gives the committed files, byte for byte."""
    problems = generation.compare(regenerated, CLIENT)
    assert not problems, "\n".join(problems)


def test_two_generations_are_byte_identical(regenerated: Path, tmp_path: Path) -> None:
    """The same inputs give the same bytes."""
    generation.generate(tmp_path)
    assert generation.generated_files(tmp_path) == generation.generated_files(regenerated)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_compare_names_missing_extra_and_changed_files(tmp_path: Path) -> None:
    """Drift is reported file by file, with a diff for changed files."""
    expected = _tree(tmp_path / "expected", {"cadenya/a.py": "a = 1\n", "cadenya/b.py": "b = 1\n"})
    actual = _tree(tmp_path / "actual", {"cadenya/b.py": "b = 2\n", "cadenya/c.py": "c = 1\n"})
    problems = generation.compare(expected, actual)
    assert problems[0] == "missing: cadenya/a.py"
    assert problems[1] == "extra: cadenya/c.py"
    assert problems[2].startswith("changed: cadenya/b.py\n")
    assert "-b = 2\n+b = 1\n" in problems[2]
    assert len(problems) == 3


def test_hand_written_lib_is_neither_compared_nor_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """cadenya/lib is outside the generated tree: compare ignores it and install keeps it."""
    source = _tree(tmp_path / "source", {"cadenya/a.py": "a = 1\n", ".stats.yml": "x: 1\n"})
    client = _tree(tmp_path / "client", {"cadenya/lib/mine.py": "mine = 1\n", "cadenya/stale.py": "old\n"})
    assert generation.compare(source, client) == [
        "missing: .stats.yml",
        "missing: cadenya/a.py",
        "extra: cadenya/stale.py",
    ]
    monkeypatch.setattr(generation, "CLIENT", client)
    generation.install(source)
    assert (client / "cadenya/lib/mine.py").read_text(encoding="utf-8") == "mine = 1\n"
    assert not (client / "cadenya/stale.py").exists()
    assert generation.compare(source, client) == []


def test_every_generated_python_file_says_it_is_generated() -> None:
    """Each generated module starts with the do-not-edit header."""
    for name, content in generation.generated_files(CLIENT).items():
        if name.endswith(".py"):
            assert content.startswith(generation.HEADER.encode()), name


def test_no_generated_module_names_a_client_without_a_credential() -> None:
    """Every operation takes `AuthenticatedClient`: the generator writes `AuthenticatedClient | Client` for an
    operation that declares no `security` of its own, and there is no `Client`."""
    package = CLIENT / "cadenya"
    generated = [path for path in package.rglob("*.py") if path.relative_to(package).parts[0] not in ("lib", "sandbox")]
    bare = re.compile(r"(?<![\w.])Client\b")
    naming = [str(path.relative_to(package)) for path in generated if bare.search(path.read_text(encoding="utf-8"))]
    assert len(generated) > 50
    assert not naming, f"these name `Client`; give their operations `security` in openapi.yaml: {naming}"


def test_stats_record_the_hashes_of_the_committed_inputs() -> None:
    """client/.stats.yml names the spec and config it was generated from, and the pinned tools."""
    stats = dict(line.split(": ", 1) for line in (CLIENT / ".stats.yml").read_text(encoding="utf-8").splitlines()[1:])
    assert (
        stats["openapi_spec_sha256"]
        == hashlib.sha256(b"openapi.yaml\0" + generation.SPEC.read_bytes() + b"\0").hexdigest()
    )
    assert stats["configured_endpoints"] == "27"
    assert stats["generator"] == "openapi-python-client 0.29.1"


def test_package_ships_py_typed() -> None:
    """The package is marked as typed (PEP 561)."""
    assert (CLIENT / "cadenya" / "py.typed").is_file()


@pytest.mark.parametrize("document", ["README.md", "CONTRIBUTING.md"])
def test_readme_sections_generated_from_the_spec_are_current(document: str) -> None:
    """The generated parts of README.md (the error code table) and CONTRIBUTING.md (the gate's rules) are what
    their sources give; `make generate` rewrites them."""
    ((_, current, wanted),) = [found for found in readme.expected_documents() if found[0].name == document]
    assert current == wanted


@pytest.mark.parametrize(
    ("answering", "who"),
    [
        pytest.param(["getA", "getB"], "`getA`, `getB`", id="named"),
        pytest.param(["getA", "getB", "getC"], "3 operations", id="counted"),
        pytest.param(["getA", "getB", "getC", "getD"], "every operation", id="every"),
        pytest.param([], "any path, outside the operations", id="none"),
    ],
)
def test_the_error_code_table_names_few_operations_and_counts_many(answering: list[str], who: str) -> None:
    """A code answered by one or two operations names them, by more counts them (api.md names each)."""
    paths = {
        f"/{op}": {"get": {"operationId": op, "x-error-codes": {"404": ["not_found"] if op in answering else []}}}
        for op in ("getA", "getB", "getC", "getD")
    }
    schemas = {"ErrorCode": {"enum": ["not_found"], "x-enum-descriptions": ["404: gone."]}}
    assert f"| gone. | {who} |" in readme.error_codes_table({"paths": paths, "components": {"schemas": schemas}})


def test_readme_sections_are_replaced_between_their_markers() -> None:
    """Only the text between a section's markers changes; a missing marker is an error, not a silent skip."""
    spec = {
        "paths": {"/x": {"get": {"operationId": "getX", "x-error-codes": {"404": ["not_found"]}}}},
        "components": {"schemas": {"ErrorCode": {"enum": ["not_found"], "x-enum-descriptions": ["404: gone."]}}},
    }
    text = "before\n<!-- generated:error-codes -->\nstale\n<!-- /generated:error-codes -->\nafter\n"
    rendered = readme.render(text, spec)
    assert rendered.startswith("before\n<!-- generated:error-codes -->\n| code |")
    assert "| `not_found` | 404 | gone. | every operation |" in rendered
    assert "stale" not in rendered
    assert "<!-- /generated:error-codes -->\nafter\n" in rendered
    with pytest.raises(ValueError, match="marker"):
        readme.render("no markers here\n", spec)
    with pytest.raises(ValueError, match=r"CONTRIBUTING\.md has no <!-- generated:breaking-rules --> marker"):
        readme.render("no markers here\n", spec, readme.CONTRIBUTING_SECTIONS, "CONTRIBUTING.md")
