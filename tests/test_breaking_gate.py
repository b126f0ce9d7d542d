"""The breaking-change gate beyond the wire rules: the Python and type-check levels, the escape hatches,
the default base and the command itself, on small packages and repositories made in a temporary directory."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from packaging.version import Version

from scripts.breaking import RULES, gate, git, python_surface, typecheck
from scripts.breaking.__main__ import main
from scripts.breaking.model import Change
from scripts.breaking.wire import RESPONSE_FIELD_ADDED, RESPONSE_FIELD_REMOVED
from tests.test_breaking_wire import BASE_SPEC

ROOT = Path(__file__).resolve().parent.parent
GIT = shutil.which("git") or "/usr/bin/git"

BASE_PACKAGE = '''\
def greet(name: str, loud: bool = False) -> str:
    """Say hello."""
    return name.upper() if loud else name


def wave() -> None:
    """Wave."""
'''


def write_package(client: Path, source: str) -> Path:
    (client / "cadenya").mkdir(parents=True, exist_ok=True)
    (client / "cadenya" / "__init__.py").write_text(source, encoding="utf-8")
    (client / "cadenya" / "py.typed").write_text("", encoding="utf-8")
    return client


def python_changes(tmp_path: Path, new_source: str) -> list[tuple[str, str]]:
    base = write_package(tmp_path / "base", BASE_PACKAGE)
    new = write_package(tmp_path / "new", new_source)
    return [(change.rule.id, change.subject) for change in python_surface.compare(base, new)]


def test_python_level_reports_a_removed_function(tmp_path: Path) -> None:
    """A public function gone from the package is griffe's 'public object was removed'."""
    new_source = BASE_PACKAGE[: BASE_PACKAGE.index("def wave")]
    assert python_changes(tmp_path, new_source) == [("python-object-removed", "cadenya.wave")]


def test_python_level_reports_a_removed_parameter(tmp_path: Path) -> None:
    """A parameter gone from a public function is griffe's 'parameter was removed', naming the parameter."""
    new_source = BASE_PACKAGE.replace("name: str, loud: bool = False", "name: str").replace(
        "name.upper() if loud else name", "name"
    )
    assert python_changes(tmp_path, new_source) == [("python-parameter-removed", "cadenya.greet(loud)")]


def test_python_level_accepts_an_added_optional_parameter(tmp_path: Path) -> None:
    """A new parameter with a default breaks nobody."""
    new_source = BASE_PACKAGE.replace("loud: bool = False", "loud: bool = False, times: int = 1")
    assert python_changes(tmp_path, new_source) == []


EXAMPLE = '''\
"""Uses the package."""

from cadenya import greet

print(greet("world", loud=True))
'''


def typecheck_changes(tmp_path: Path, new_source: str) -> list[tuple[str, str]]:
    base = tmp_path / "base"
    (base / "examples").mkdir(parents=True)
    (base / "examples" / "hello.py").write_text(EXAMPLE, encoding="utf-8")
    new_client = write_package(tmp_path / "client", new_source)
    (tmp_path / "scratch").mkdir()
    changes = typecheck.check(base, new_client, ROOT / "pyproject.toml", tmp_path / "cache", tmp_path / "scratch")
    return [(change.rule.id, change.subject) for change in changes]


def test_typecheck_level_reports_an_example_that_no_longer_type_checks(tmp_path: Path) -> None:
    """The base's example calls an argument the new package lost: mypy's error is a breaking change."""
    new_source = BASE_PACKAGE.replace(", loud: bool = False", "").replace("name.upper() if loud else name", "name")
    assert typecheck_changes(tmp_path, new_source) == [("typecheck-error", "examples/hello.py:5")]


def test_typecheck_level_passes_an_example_that_still_type_checks(tmp_path: Path) -> None:
    """The base's example still type-checks against an unchanged package: nothing to report."""
    assert typecheck_changes(tmp_path, BASE_PACKAGE) == []


def test_typecheck_level_follows_the_test_helpers_the_end_to_end_tests_import(tmp_path: Path) -> None:
    """An end-to-end test brings along the tests/ modules it imports, and nothing else of tests/."""
    (tmp_path / "tests").mkdir()
    for name, source in {
        "__init__.py": "",
        "test_e2e_x.py": "from tests.helpers import f\n",
        "helpers.py": "from tests import support\n",
        "support.py": "",
        "test_unit.py": "",
    }.items():
        (tmp_path / "tests" / name).write_text(source, encoding="utf-8")
    assert [path.as_posix() for path in typecheck.users(tmp_path)] == [
        "tests/__init__.py",
        "tests/helpers.py",
        "tests/support.py",
        "tests/test_e2e_x.py",
    ]


def change(rule_id: str, subject: str = "getThing 200 Thing.note") -> Change:
    return Change(RULES[rule_id], subject)


def test_breaking_change_fails_the_gate() -> None:
    """A breaking change with no bump and no allow entry fails."""
    verdict = gate.decide([change("response-field-removed")], Version("1.0.0"), Version("1.1.0"), [])
    assert not verdict.passed


def test_additive_changes_pass_the_gate() -> None:
    """Additive and compatible changes alone pass."""
    changes = [change("response-field-added"), change("error-status-removed", "getThing 404")]
    assert gate.decide(changes, Version("1.0.0"), Version("1.0.0"), []).passed


def test_major_version_bump_lets_a_breaking_change_pass() -> None:
    """The major version raised relative to the base is the first escape hatch."""
    verdict = gate.decide([change("response-field-removed")], Version("1.4.2"), Version("2.0.0"), [])
    assert verdict.passed
    assert verdict.reason == "major version bumped (1.4.2 -> 2.0.0)"


def test_minor_version_bump_does_not_let_a_breaking_change_pass() -> None:
    """Only the major version counts."""
    assert not gate.decide([change("response-field-removed")], Version("1.4.2"), Version("1.5.0"), []).passed


@pytest.mark.parametrize(
    ("entry", "passed"),
    [
        pytest.param("response-field-removed: never filled in", True, id="rule-everywhere"),
        pytest.param("response-field-removed getThing 200 Thing.*: never filled in", True, id="rule-matching-glob"),
        pytest.param("response-field-removed getOther*: never filled in", False, id="rule-other-subject"),
        pytest.param("operation-removed: not this one", False, id="other-rule"),
    ],
)
def test_allow_entry_lets_only_the_breaking_change_it_names_pass(entry: str, passed: bool) -> None:
    """An allow entry is the second escape hatch, for its rule and the subjects its glob matches."""
    allow = gate.parse_allow(entry, RULES)
    verdict = gate.decide([change("response-field-removed")], Version("1.0.0"), Version("1.0.0"), allow)
    assert verdict.passed is passed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("response-field-removed", "needs a reason", id="no-reason"),
        pytest.param("response-field-removed:   ", "needs a reason", id="blank-reason"),
        pytest.param("field-gone: typo", "unknown rule", id="unknown-rule"),
    ],
)
def test_malformed_allow_entry_is_refused(text: str, message: str) -> None:
    """An entry without a reason, or naming no rule, is an error rather than a silent pass."""
    with pytest.raises(ValueError, match=message):
        gate.parse_allow(text, RULES)


def test_allow_entries_the_base_already_has_no_longer_count() -> None:
    """Entries of an earlier release (present at the base) are ignored; only new ones allow."""
    base = gate.parse_allow("operation-removed: old release", RULES)
    current = gate.parse_allow("operation-removed: old release\nresponse-field-removed: this release", RULES)
    assert [entry.rule_id for entry in gate.new_entries(base, current)] == ["response-field-removed"]


def test_report_has_one_line_per_change_and_a_summary() -> None:
    """Each change is one line with classification, level, rule and subject; the last line sums them up."""
    changes = [
        Change(RESPONSE_FIELD_REMOVED, "getThing 200 Thing.note"),
        Change(RESPONSE_FIELD_ADDED, "getThing 200 Thing.color"),
    ]
    verdict = gate.decide(changes, Version("1.0.0"), Version("1.0.0"), [])
    lines = gate.report(changes, verdict, "v1.0.0").splitlines()
    assert lines[0].split()[:4] == ["BREAKING", "wire", "response-field-removed", "getThing"]
    assert lines[1].split()[:3] == ["additive", "wire", "response-field-added"]
    assert lines[2].startswith("2 change(s) against v1.0.0: 1 BREAKING, 1 additive, 0 changed, compatible; FAILED")


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for command in (
        ["init", "--quiet", "--initial-branch=main"],
        ["config", "user.email", "gate@example.com"],
        ["config", "user.name", "Gate"],
        ["config", "commit.gpgsign", "false"],
        ["config", "tag.gpgsign", "false"],
    ):
        subprocess.run([GIT, *command], cwd=path, check=True)
    return path


def commit(repo: Path, message: str) -> None:
    subprocess.run([GIT, "add", "-A"], cwd=repo, check=True)
    subprocess.run([GIT, "commit", "--quiet", "--allow-empty", "-m", message], cwd=repo, check=True)


def test_default_base_is_head_without_release_tags(tmp_path: Path) -> None:
    """With no v* tag, the working tree is compared with HEAD."""
    repo = git_repo(tmp_path / "repo")
    commit(repo, "first")
    subprocess.run([GIT, "tag", "release-candidate"], cwd=repo, check=True)
    assert git.default_base(repo) == "HEAD"


def test_default_base_is_the_highest_version_tag(tmp_path: Path) -> None:
    """The latest release is the highest version (v1.10.0 after v1.9.0), not the last tag in text order."""
    repo = git_repo(tmp_path / "repo")
    for tag in ("v1.2.0", "v1.10.0", "v1.9.0", "vnext"):
        commit(repo, tag)
        subprocess.run([GIT, "tag", tag], cwd=repo, check=True)
    assert git.default_base(repo) == "v1.10.0"


def project(repo: Path, spec: dict[str, object], version: str) -> None:
    (repo / "openapi.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    (repo / "pyproject.toml").write_text(f'[project]\nname = "things"\nversion = "{version}"\n', encoding="utf-8")


@pytest.fixture
def released(tmp_path: Path) -> Path:
    """A repository whose v1.0.0 tag holds the tiny spec, and whose working tree lost a response field since."""
    repo = git_repo(tmp_path / "repo")
    spec = yaml.safe_load(BASE_SPEC.read_text(encoding="utf-8"))
    project(repo, spec, "1.0.0")
    commit(repo, "release")
    subprocess.run([GIT, "tag", "v1.0.0"], cwd=repo, check=True)
    del spec["components"]["schemas"]["Thing"]["properties"]["note"]
    (repo / "openapi.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    return repo


def test_command_fails_on_an_unversioned_break(released: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`make breaking` exits 1 and names the change, against the latest tag by default."""
    assert main(["--root", str(released)]) == 1
    out = capsys.readouterr().out
    assert "BREAKING    wire       response-field-removed        getThing 200 Thing.note (and 1 more)" in out
    assert "1 change(s) against v1.0.0" in out


def test_command_passes_a_break_with_a_major_bump(released: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same break passes once pyproject.toml's major version is raised."""
    project_text = (released / "pyproject.toml").read_text(encoding="utf-8")
    (released / "pyproject.toml").write_text(project_text.replace("1.0.0", "2.0.0"), encoding="utf-8")
    assert main(["--root", str(released)]) == 0
    assert "PASSED: major version bumped (1.0.0 -> 2.0.0)" in capsys.readouterr().out


def test_command_passes_a_break_with_an_allow_entry(released: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same break passes with a `.breaking-allow` entry, whose reason the report shows."""
    (released / ".breaking-allow").write_text("response-field-removed: nobody read it\n", encoding="utf-8")
    assert main(["--root", str(released)]) == 0
    assert "[allowed: nobody read it]" in capsys.readouterr().out


def test_command_reports_no_changes_against_an_identical_base(
    released: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A working tree equal to its base says so and passes."""
    commit(released, "drop the note")
    assert main(["--root", str(released), "--base", "HEAD"]) == 0
    assert capsys.readouterr().out.startswith("no changes against HEAD")


def test_command_says_which_levels_had_nothing_to_compare(released: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A base without a client or examples is reported as skipped for those levels, not silently passed."""
    main(["--root", str(released)])
    last = capsys.readouterr().out.rstrip("\n").splitlines()[-1]
    assert "python skipped (the base has no client/cadenya)" in last
    assert "typecheck skipped (the base has no examples/ or tests/test_e2e_*.py)" in last


def test_command_refuses_an_unknown_base(released: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A base that names no commit is an error (exit 2), not a pass."""
    assert main(["--root", str(released), "--base", "v9.9.9"]) == 2
    assert "not a commit" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(b"openapi: 3.1.0\npaths: {unclosed\n", "is not valid YAML at line 3", id="malformed-yaml"),
        pytest.param(b"- just\n- a list\n", "is not a mapping of OpenAPI fields", id="not-a-mapping"),
        pytest.param(b"openapi: '3.1\xff'\n", "is not UTF-8 text", id="not-utf8"),
    ],
)
def test_command_refuses_a_spec_it_cannot_read(
    released: Path, capsys: pytest.CaptureFixture[str], text: bytes, message: str
) -> None:
    """A working-tree spec that is not a readable YAML mapping is exit 2 with one line, never 1 (a break)."""
    (released / "openapi.yaml").write_bytes(text)
    assert main(["--root", str(released)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err and "the working tree" in captured.err


def test_every_rule_is_in_the_contributing_guide() -> None:
    """CONTRIBUTING.md's rules table lists every rule of every level."""
    guide = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert all(f"| `{rule_id}` |" in guide for rule_id in RULES)


def test_rule_ids_are_unique_across_levels() -> None:
    """No two levels share a rule id, so an allow entry names exactly one rule."""
    from scripts.breaking import wire

    assert len(RULES) == len(wire.RULES) + len(python_surface.RULES) + len(typecheck.RULES)
