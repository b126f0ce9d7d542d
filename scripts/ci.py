"""`make test`: every suite of this repository, side by side, summed up in one last line.

The suites (SUITES, and one per nox session of the matrix) do not depend on one another, so a pool of one worker
per CPU, and one more, runs them, the longest first. Each suite's output goes to its own log file and
is printed whole, under a header, when the suite ends: the output of two suites never interleaves.

Counts come from machine-readable reports, never from a suite's text:

- each pytest run writes JUnit XML (`--junitxml`): the tests run once in the dev venv, each matrix cell, the
  example application's runs (scripts/example_tests.py);
- nox writes its JSON report (`--report`) for each cell: whether it ran, failed, or was skipped because this
  machine lacks its interpreter (listed by name, and counted as neither passed nor failed);
- schemathesis writes JUnit XML for the contract suite (scripts/contract.py);
- any other suite counts as one check, passed when it exits 0.

A suite that fails without a report saying so (it crashed, or its install failed) counts as one failure. All
suites run even after a failure; the exit status is non-zero when anything failed. The last line is:

    N passed, N failed
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests import tiers

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MAKE = ["make", "--no-print-directory"]


@dataclass
class Outcome:
    suite: str
    passed: int = 0
    failed: int = 0
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class Suite:
    """One command; `{reports}` in it stands for a directory of its own, where it writes its reports."""

    name: str
    command: tuple[str, ...]
    # "plain": one check; "junit": every *.xml in its directory; "nox": nox.json and junit.xml of one cell.
    kind: str = "plain"
    # About how long it takes on one CPU, in seconds: the pool starts the longest first.
    weight: float = 10.0


def make(target: str, *assignments: str) -> tuple[str, ...]:
    return (*MAKE, target, *assignments)


def once(*names: str) -> str:
    """`make pytest`'s arguments for the given test files, writing a JUnit report."""
    return "PYTEST_ARGS=" + " ".join([*(f"tests/{name}" for name in sorted(names)), "--junitxml={reports}/junit.xml"])


# The tests that cannot depend on the interpreter or the runtime dependencies (tests/tiers.py) run once, here
# in the dev venv, in three suites so that they spread over the pool; every matrix cell runs the others.
SUITES = (
    Suite("lint", make("lint"), weight=2),
    Suite("spec-lint", make("spec-lint"), weight=4),
    Suite("typecheck", make("typecheck"), weight=25),
    Suite("check", make("check"), weight=5),
    Suite("breaking", make("breaking"), weight=8),
    Suite("tests once: tooling", make("pytest", once(*tiers.TOOLING)), "junit", 80),
    Suite("tests once: sandbox process", make("pytest", once(*tiers.SANDBOX_PROCESS)), "junit", 100),
    Suite("tests once: sandbox API", make("pytest", once(*tiers.SANDBOX_API)), "junit", 90),
    Suite("contract", make("contract", "CONTRACT_ARGS=--junit {reports}/junit.xml"), "junit", 40),
    Suite("release-check", make("release-check"), weight=15),
    Suite("bench-smoke", make("bench-smoke"), weight=30),
    Suite("example-tests", make("example-tests", "EXAMPLE_ARGS=--junit-dir {reports}"), "junit", 35),
)
NOX = (str(BIN / "nox"), "--no-error-on-missing-interpreters")
CELL_WEIGHT = 60.0


def matrix_cells() -> list[Suite]:
    """One suite per nox session (`nox --list --json`); nox itself is the matrix's definition."""
    listed = subprocess.run([*NOX, "--list", "--json"], cwd=ROOT, capture_output=True, text=True, check=False)
    try:
        sessions = json.loads(listed.stdout)
    except json.JSONDecodeError:
        return []
    return [
        Suite(
            f"matrix {session['session']}",
            (*NOX, "-s", session["session"], "--report", "{reports}/nox.json", "--", "--junitxml={reports}/junit.xml"),
            "nox",
            CELL_WEIGHT,
        )
        for session in sessions
    ]


def junit_outcome(outcome: Outcome, paths: Sequence[Path]) -> bool:
    """Add the test cases of JUnit files to `outcome`; False when there is none to read.

    A case with a <failure> or an <error> failed, one with <skipped> is listed by reason, any other passed.
    """
    reasons: Counter[str] = Counter()
    read = False
    for path in paths:
        try:
            root = ElementTree.parse(path).getroot()  # noqa: S314 (a report this run's own tools just wrote)
        except (OSError, ElementTree.ParseError):
            continue
        read = True
        for case in root.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                outcome.failed += 1
            elif (skip := case.find("skipped")) is not None:
                reasons[skip.get("message") or "no reason given"] += 1
            else:
                outcome.passed += 1
    outcome.skipped.extend(f"{count} test(s): {reason}" for reason, count in sorted(reasons.items()))
    return read


def nox_outcome(outcome: Outcome, reports: Path) -> bool:
    """A cell from nox's JSON report and its pytest's JUnit file; False when nox wrote no report."""
    try:
        report: dict[str, Any] = json.loads((reports / "nox.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    sessions = report.get("sessions") or []
    if not sessions:
        return False
    for session in sessions:
        name = session["signatures"][0] if session.get("signatures") else session.get("name", "?")
        if session["result"] == "skipped":
            outcome.skipped.append(f"{name}: {session.get('reason') or 'no reason given'}")
            continue
        counted = junit_outcome(outcome, [reports / "junit.xml"])
        if session["result"] != "success" and (not counted or outcome.failed == 0):
            outcome.failed += 1
    return True


def judge(suite: Suite, status: int, reports: Path, seconds: float) -> Outcome:
    """The outcome of a finished suite, from its reports and its exit status."""
    outcome = Outcome(suite.name, seconds=seconds)
    if suite.kind == "nox":
        if not nox_outcome(outcome, reports) or (status != 0 and outcome.failed == 0):
            outcome.failed += 1
        return outcome
    if suite.kind == "junit":
        if not junit_outcome(outcome, sorted(reports.glob("*.xml"))):
            outcome.failed += 1  # it ran no test that a report shows
    elif status == 0:
        outcome.passed = 1
    if status != 0 and outcome.failed == 0:
        outcome.failed = 1
    return outcome


_printing = threading.Lock()


def say(text: str) -> None:
    with _printing:
        sys.stdout.write(text)
        sys.stdout.flush()


def run(suite: Suite, work: Path) -> Outcome:
    """Run one suite with its output in a log file, then print that log whole, under a header."""
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", suite.name).strip("-")
    reports = work / slug
    reports.mkdir(parents=True)
    command = [part.replace("{reports}", str(reports)) for part in suite.command]
    log = reports / "output.log"
    say(f"started  {suite.name}\n")
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as output:
        status = subprocess.run(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, check=False).returncode
    outcome = judge(suite, status, reports, time.monotonic() - started)
    verdict = "FAILED" if outcome.failed else "ok"
    text = log.read_text(encoding="utf-8", errors="replace")
    say(
        f"\n===== {suite.name}: {verdict} in {outcome.seconds:.0f}s (exit {status}) =====\n"
        f"{text}{'' if text.endswith(chr(10)) or not text else chr(10)}"
        f"===== end of {suite.name} =====\n"
    )
    return outcome


def workers() -> int:
    """One suite per CPU, and one more: part of every suite waits on sockets, sleeps and subprocesses, and the
    extra one runs in those gaps instead of leaving a CPU idle."""
    return (os.cpu_count() or 1) + 1


def run_all(suites: Sequence[Suite], runner: Callable[[Suite, Path], Outcome] = run) -> list[Outcome]:
    """Every suite on a pool of `workers()`, the heaviest started first; outcomes in the order of `suites`."""
    order = sorted(range(len(suites)), key=lambda index: -suites[index].weight)
    with tempfile.TemporaryDirectory(prefix="cadenya-ci-") as temporary, ThreadPoolExecutor(workers()) as pool:
        futures = {index: pool.submit(runner, suites[index], Path(temporary)) for index in order}
        return [futures[index].result() for index in range(len(suites))]


def summary(outcomes: Sequence[Outcome], seconds: float) -> tuple[str, int]:
    lines = ["", f"summary ({len(outcomes)} suites on {workers()} workers, {seconds:.0f}s)"]
    for outcome in outcomes:
        verdict = "FAILED" if outcome.failed else ("skipped" if outcome.skipped and not outcome.passed else "ok")
        lines.append(
            f"  {verdict:8} {outcome.suite:40} {outcome.passed:6} passed {outcome.failed:4} failed"
            f" {outcome.seconds:6.0f}s"
        )
        lines.extend(f"           skipped: {reason}" for reason in outcome.skipped)
    passed = sum(outcome.passed for outcome in outcomes)
    failed = sum(outcome.failed for outcome in outcomes)
    lines.append(f"{passed} passed, {failed} failed")
    return "\n".join(lines) + "\n", failed


def main() -> int:
    started = time.monotonic()
    # The suites start hundreds of Python processes over the same files (each cell's pytest, the sandboxes, the
    # user programs they run): let them write and share compiled bytecode instead of compiling every module
    # again in each process.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    cells = matrix_cells()
    suites = [*SUITES, *cells]
    outcomes = run_all(suites)
    if not cells:
        outcomes.append(Outcome("matrix (nox --list failed)", failed=1))
    text, failed = summary(outcomes, time.monotonic() - started)
    say(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
