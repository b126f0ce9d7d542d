"""scripts/ci.py and scripts/uv_settings.py: `make test` counts from reports, runs suites side by side, and its
venvs install from the indexes pip is configured with."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import pytest

from scripts import ci, uv_settings
from tests import tiers

ROOT = Path(__file__).resolve().parent.parent

A_SUITE = """\
import pytest

def test_passes():
    assert True

def test_fails():
    assert False

@pytest.fixture
def broken():
    raise RuntimeError("setup")

def test_errors(broken):
    pass

@pytest.mark.skip(reason="not on this machine")
def test_skipped():
    pass

@pytest.mark.parametrize("n", [1, 2])
def test_many(n):
    assert n
"""

# The shape of schemathesis's --report junit: one case per operation, a <failure> per failed check.
SCHEMATHESIS_JUNIT = """\
<?xml version="1.0" ?>
<testsuites disabled="0" errors="0" failures="1" tests="3" time="1.0">
  <testsuite name="schemathesis" errors="0" failures="1" skipped="0" tests="3" time="1.0">
    <testcase name="GET /account" time="0.3"/>
    <testcase name="POST /api-keys" time="0.4"><failure type="failure" message="1. Server error"/></testcase>
    <testcase name="GET /workspaces" time="0.3"><skipped type="skipped" message="no examples"/></testcase>
  </testsuite>
</testsuites>
"""


@pytest.fixture(scope="module")
def real_junit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The JUnit XML that this pytest writes for a small suite with every kind of outcome."""
    place = tmp_path_factory.mktemp("junit")
    (place / "test_suite.py").write_text(A_SUITE, encoding="utf-8")
    report = place / "junit.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:cadenya", f"--junitxml={report}"],
        cwd=place, capture_output=True, check=False, timeout=120,
    )  # fmt: skip
    return report


def test_a_junit_report_counts_passed_failed_errors_and_skipped(real_junit: Path) -> None:
    """pytest's own JUnit file: passes and parametrized cases pass, a failure and a setup error fail, a skip is listed."""
    outcome = ci.Outcome("suite")
    assert ci.junit_outcome(outcome, [real_junit])
    assert (outcome.passed, outcome.failed) == (3, 2)
    assert outcome.skipped == ["1 test(s): not on this machine"]


def test_schemathesis_junit_counts_each_operation(tmp_path: Path) -> None:
    """The contract suite's report: a case with a <failure> failed, a skipped one is neither passed nor failed."""
    (tmp_path / "junit.xml").write_text(SCHEMATHESIS_JUNIT, encoding="utf-8")
    outcome = ci.judge(ci.Suite("contract", (), "junit"), 1, tmp_path, 1.0)
    assert (outcome.passed, outcome.failed, outcome.skipped) == (1, 1, ["1 test(s): no examples"])


@pytest.mark.parametrize(
    ("content", "status", "expected"),
    [
        pytest.param(None, 1, (0, 1), id="no-report-and-failed"),
        pytest.param("<not xml", 1, (0, 1), id="broken-report"),
        pytest.param(None, 0, (0, 1), id="no-report-and-passed"),
        pytest.param('<testsuite tests="1"><testcase name="a"/></testsuite>', 2, (1, 1), id="passed-cases-bad-exit"),
    ],
)
def test_a_junit_suite_without_a_report_or_with_a_bad_exit_counts_one_failure(
    tmp_path: Path, content: str | None, status: int, expected: tuple[int, int]
) -> None:
    """No readable report is a failure whatever the exit; a non-zero exit is one even when no case failed."""
    if content is not None:
        (tmp_path / "junit.xml").write_text(content, encoding="utf-8")
    outcome = ci.judge(ci.Suite("example-tests", (), "junit"), status, tmp_path, 1.0)
    assert (outcome.passed, outcome.failed) == expected


@pytest.mark.parametrize(
    ("status", "expected"), [pytest.param(0, (1, 0), id="passed"), pytest.param(2, (0, 1), id="failed")]
)
def test_a_plain_suite_is_one_check(tmp_path: Path, status: int, expected: tuple[int, int]) -> None:
    """A suite without a report counts as one check, passed exactly when it exits 0."""
    outcome = ci.judge(ci.Suite("lint", ()), status, tmp_path, 1.0)
    assert (outcome.passed, outcome.failed) == expected


def nox_report(result: str, reason: str | None = None) -> str:
    name = "tests-3.14(deps='lowest')"
    session = {"name": "tests", "signatures": [name, "tests-3.14"], "result": result, "reason": reason}
    return json.dumps({"sessions": [session]})


def test_a_cell_without_its_interpreter_is_skipped_by_name(tmp_path: Path) -> None:
    """nox's report of a missing interpreter becomes a named skip, counted as neither passed nor failed."""
    (tmp_path / "nox.json").write_text(nox_report("skipped", "Python interpreter 3.14 not found"), encoding="utf-8")
    outcome = ci.judge(ci.Suite("matrix x", (), "nox"), 0, tmp_path, 1.0)
    assert (outcome.passed, outcome.failed) == (0, 0)
    assert outcome.skipped == ["tests-3.14(deps='lowest'): Python interpreter 3.14 not found"]


def test_a_cell_adds_its_pytest_junit_counts(tmp_path: Path, real_junit: Path) -> None:
    """A cell that ran pytest counts its cases from the JUnit file beside nox's report."""
    (tmp_path / "nox.json").write_text(nox_report("failed"), encoding="utf-8")
    (tmp_path / "junit.xml").write_bytes(real_junit.read_bytes())
    outcome = ci.judge(ci.Suite("matrix x", (), "nox"), 1, tmp_path, 1.0)
    assert (outcome.passed, outcome.failed) == (3, 2)


def test_a_cell_that_failed_before_pytest_counts_one_failure(tmp_path: Path) -> None:
    """A cell whose install failed wrote no JUnit file: nox says failed, so it is one failure, not zero."""
    (tmp_path / "nox.json").write_text(nox_report("failed"), encoding="utf-8")
    outcome = ci.judge(ci.Suite("matrix x", (), "nox"), 1, tmp_path, 1.0)
    assert (outcome.passed, outcome.failed) == (0, 1)


def test_a_cell_without_a_nox_report_is_a_failure(tmp_path: Path) -> None:
    """nox that could not even start (no report written) is a failure of that cell."""
    outcome = ci.judge(ci.Suite("matrix x", (), "nox"), 2, tmp_path, 1.0)
    assert (outcome.passed, outcome.failed) == (0, 1)


def test_the_matrix_is_every_nox_session() -> None:
    """One suite per session nox lists, each writing nox's report and its pytest's JUnit file."""
    cells = ci.matrix_cells()
    listed = subprocess.run([*ci.NOX, "--list", "--json"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert [cell.name for cell in cells] == [f"matrix {session['session']}" for session in json.loads(listed.stdout)]
    assert "matrix httpx2-only" in [cell.name for cell in cells]
    assert all("--report" in cell.command and "--junitxml={reports}/junit.xml" in cell.command for cell in cells)


def test_a_suites_output_is_printed_whole_after_it_ends(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Its log appears in one piece between its header and its end line, and its report is read from its folder."""
    code = "import sys; print('one'); print('two', file=sys.stderr); sys.exit(3)"
    outcome = ci.run(ci.Suite("demo suite", (sys.executable, "-c", code)), tmp_path)
    printed = capsys.readouterr().out
    assert (outcome.passed, outcome.failed) == (0, 1)
    assert re.search(
        r"===== demo suite: FAILED in \d+s \(exit 3\) =====\none\ntwo\n===== end of demo suite =====\n", printed
    )


def test_the_pool_never_runs_more_suites_at_once_than_its_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never more suites at once than workers(), all of them run, and outcomes come back in the suites' order."""
    monkeypatch.setattr(ci, "workers", lambda: 2)
    running, most, lock = [0], [0], threading.Lock()

    def runner(suite: ci.Suite, work: Path) -> ci.Outcome:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return ci.Outcome(suite.name, passed=1)

    suites = [ci.Suite(f"s{index}", (), weight=index) for index in range(6)]
    outcomes = ci.run_all(suites, runner)
    assert [outcome.suite for outcome in outcomes] == [suite.name for suite in suites]
    assert most[0] == 2


def test_the_pool_has_one_worker_per_cpu_and_one_more(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its size comes from os.cpu_count(): the extra worker fills the time suites spend waiting."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert ci.workers() == 3


def test_the_heaviest_suites_start_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """With one worker the suites run in order of their weight, the heaviest first."""
    monkeypatch.setattr(ci, "workers", lambda: 1)
    started: list[str] = []
    suites = [ci.Suite("light", (), weight=1), ci.Suite("heavy", (), weight=90), ci.Suite("middle", (), weight=30)]

    def runner(suite: ci.Suite, work: Path) -> ci.Outcome:
        started.append(suite.name)
        return ci.Outcome(suite.name)

    ci.run_all(suites, runner)
    assert started == ["heavy", "middle", "light"]


def test_the_last_line_is_the_plain_sum(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The summary ends with `N passed, N failed` over every suite, and the status says whether any failed."""
    outcomes = [
        ci.Outcome("lint", passed=1),
        ci.Outcome("matrix a", passed=100),
        ci.Outcome("matrix b", passed=90, failed=2),
        ci.Outcome("matrix c", skipped=["c: Python interpreter 3.14 not found"]),
        ci.Outcome("typecheck", failed=1),
    ]
    monkeypatch.setattr(ci, "matrix_cells", lambda: [ci.Suite("matrix a", ())])
    monkeypatch.setattr(ci, "run_all", lambda suites: outcomes)
    status = ci.main()
    printed = capsys.readouterr().out.rstrip("\n").splitlines()
    assert printed[-1] == "191 passed, 3 failed"
    assert "  skipped  matrix c" in "\n".join(printed)
    assert status == 1


def test_no_nox_session_is_a_failure(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """When nox lists no session the matrix did not run: that is a failure, not a pass by omission."""
    monkeypatch.setattr(ci, "matrix_cells", list)
    monkeypatch.setattr(ci, "run_all", lambda suites: [ci.Outcome(suite.name, passed=1) for suite in suites])
    assert ci.main() == 1
    assert capsys.readouterr().out.rstrip("\n").splitlines()[-1] == f"{len(ci.SUITES)} passed, 1 failed"


PIP_CONFIG = """\
global.cert='/etc/ssl/ca.pem'
global.extra-index-url='file:///one/simple file:///two/simple'
global.find-links='/wheels'
global.index-url='https://mirror.example/simple'
install.find-links='/install-wheels /more-wheels'
:env:.index-url='https://env.example/simple'
global.constraint='/etc/pip/constraints.txt'
not a setting
"""


def test_pips_settings_become_uvs_variables() -> None:
    """Each index, link, constraint and certificate pip is given reaches uv, lists in uv's own separators."""
    environment = uv_settings.uv_environment(uv_settings.parse_pip_config(PIP_CONFIG), {})
    assert environment == {
        "SSL_CERT_FILE": "/etc/ssl/ca.pem",
        "UV_INDEX": "file:///one/simple file:///two/simple",
        "UV_FIND_LINKS": "/install-wheels,/more-wheels",
        "UV_DEFAULT_INDEX": "https://env.example/simple",
        "UV_CONSTRAINT": "/etc/pip/constraints.txt",
        "UV_INDEX_STRATEGY": "unsafe-best-match",
        "UV_PYTHON_DOWNLOADS": "never",
    }


def test_a_uv_variable_already_set_wins() -> None:
    """A UV_* variable in the environment is left as it is: the machine's own uv settings come first."""
    environment = uv_settings.uv_environment({"extra-index-url": "file:///x"}, {"UV_INDEX": "mine"})
    assert "UV_INDEX" not in environment


def test_without_pip_settings_only_the_projects_own_are_set() -> None:
    """No pip configuration: uv keeps its defaults but for pip's index strategy and no interpreter downloads."""
    assert uv_settings.uv_environment(uv_settings.parse_pip_config(""), {}) == uv_settings.PROJECT_SETTINGS


def test_the_dev_venv_installs_the_uv_the_dev_extra_pins() -> None:
    """The Makefile's bootstrap installs exactly the uv pinned in pyproject.toml's dev extra, then uv the rest."""
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"][
        "dev"
    ]
    pins = [requirement for requirement in dev if re.fullmatch(r"uv==\d+\.\d+\.\d+", requirement)]
    assert len(pins) == 1
    make = ["make", "-n", "-B", ".venv/.installed"]
    recipe = subprocess.run(make, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert f"pip install --quiet '{pins[0]}'" in recipe
    assert "scripts.uv_settings .venv/bin/uv pip install" in recipe


def test_every_test_file_is_in_at_most_one_tier_and_every_named_one_exists() -> None:
    """tests/tiers.py names real files, each once: a renamed file cannot silently leave or join a tier."""
    named = [*tiers.TOOLING, *tiers.SANDBOX_PROCESS, *tiers.SANDBOX_API, *tiers.WIRE]
    assert len(named) == len(set(named))
    assert set(named) <= {path.name for path in (ROOT / "tests").glob("test_*.py")}


def test_the_once_suites_run_every_once_tier_file() -> None:
    """Every file the cells leave out runs in one of `make test`'s once suites, with a JUnit report."""
    once = [suite for suite in ci.SUITES if suite.name.startswith("tests once")]
    arguments = " ".join(part for suite in once for part in suite.command)
    assert {name for name in tiers.ONCE if f"tests/{name}" not in arguments} == set()
    assert all(suite.kind == "junit" and "--junitxml={reports}/junit.xml" in " ".join(suite.command) for suite in once)
