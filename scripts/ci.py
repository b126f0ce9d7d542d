"""`make test`: every suite of this repository, one after another, summed up in one last line.

Each suite is a make target, run as a developer runs it; its output streams through unchanged. A suite
that reports test counts (pytest in each cell of the nox matrix, schemathesis) adds them; any other suite
counts as one check. A matrix cell whose interpreter this machine lacks is listed as skipped, by name.
All suites run even after a failure; the exit status is non-zero when anything failed. The last line is:

    N passed, N failed
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

PYTEST_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped)\b")
PYTEST_FOOTER = re.compile(r"^=* ?(\d+ (?:passed|failed|errors?|skipped|deselected)\b.*) in [\d.]+s")
SCHEMATHESIS_COUNTS = re.compile(r"(\d+) generated, (\d+) passed(?:, (\d+) failed)?")


@dataclass
class Outcome:
    suite: str
    passed: int = 0
    failed: int = 0
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run(target: str, *extra: str) -> tuple[int, str]:
    """Run `make <target>`, streaming its output, and return its status and output."""
    process = subprocess.Popen(
        ["make", "--no-print-directory", target, *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    lines = []
    for line in process.stdout or ():
        sys.stdout.write(line)
        sys.stdout.flush()
        lines.append(line)
    return process.wait(), "".join(lines)


def pytest_counts(output: str) -> tuple[int, int, int] | None:
    """(passed, failed + errors, skipped) from every pytest footer in `output`, or None without one."""
    footers = [match.group(1) for line in output.splitlines() if (match := PYTEST_FOOTER.match(line.strip()))]
    if not footers:
        return None
    passed = failed = skipped = 0
    for footer in footers:
        for number, kind in PYTEST_COUNT.findall(footer):
            if kind == "passed":
                passed += int(number)
            elif kind == "skipped":
                skipped += int(number)
            else:
                failed += int(number)
    return passed, failed, skipped


def plain(target: str) -> Outcome:
    started = time.monotonic()
    status, _ = run(target)
    return Outcome(target, passed=int(status == 0), failed=int(status != 0), seconds=time.monotonic() - started)


def counted(target: str) -> Outcome:
    """A suite whose output ends in pytest footers: their counts, or one failure if it failed without any."""
    started = time.monotonic()
    status, output = run(target)
    outcome = Outcome(target, seconds=time.monotonic() - started)
    counts = pytest_counts(output)
    if counts is not None:
        outcome.passed, outcome.failed, skipped = counts
        if skipped:
            outcome.skipped.append(f"{skipped} test(s) skipped, reasons above")
    if status != 0 and outcome.failed == 0:
        outcome.failed = 1
    return outcome


def contract() -> Outcome:
    started = time.monotonic()
    status, output = run("contract")
    outcome = Outcome("contract", seconds=time.monotonic() - started)
    counts = SCHEMATHESIS_COUNTS.search(output)
    if counts:
        outcome.passed, outcome.failed = int(counts.group(2)), int(counts.group(3) or 0)
    if status != 0 and outcome.failed == 0:
        outcome.failed = 1
    return outcome


def read_report(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    report: dict[str, Any] = json.loads(path.read_text())
    return report


def matrix() -> list[Outcome]:
    """Every nox session; nox's JSON report says which ran, failed or were skipped."""
    with tempfile.TemporaryDirectory(prefix="cadenya-ci-") as temporary:
        report_path = Path(temporary) / "nox.json"
        started = time.monotonic()
        status, output = run("matrix", f"NOX_ARGS=--report {report_path}")
        seconds = time.monotonic() - started
        report = read_report(report_path)
    sessions = report["sessions"] if report else []
    if not sessions:
        return [Outcome("matrix", failed=1, seconds=seconds)]
    # Each session's output begins with nox's "nox > Running session <name>" line.
    chunks = re.split(r"^nox > Running session ", output, flags=re.MULTILINE)[1:]
    by_name = {chunk.split("\n", 1)[0].strip(): chunk for chunk in chunks}
    outcomes = []
    for session in sessions:
        name = session["signatures"][0]
        outcome = Outcome(f"matrix {name}", seconds=session.get("duration") or seconds / len(sessions))
        counts = pytest_counts(by_name.get(name, ""))
        if session["result"] == "skipped":
            outcome.skipped.append(f"{name}: {session.get('reason') or 'no reason given'}")
        elif counts is None:
            outcome.failed = 1
        else:
            outcome.passed, outcome.failed, skipped = counts
            if skipped:
                outcome.skipped.append(f"{skipped} test(s) skipped, reasons above")
            if session["result"] != "success" and outcome.failed == 0:
                outcome.failed = 1
        outcomes.append(outcome)
    if status != 0 and not any(outcome.failed for outcome in outcomes):
        outcomes.append(Outcome("matrix", failed=1))
    return outcomes


PLAIN_BEFORE = ("lint", "spec-lint", "typecheck", "check", "breaking")
PLAIN_AFTER = ("release-check", "bench-smoke")
COUNTED_AFTER = ("example-tests",)


def main() -> int:
    outcomes = [plain(target) for target in PLAIN_BEFORE]
    outcomes.extend(matrix())
    outcomes.append(contract())
    outcomes.extend(plain(target) for target in PLAIN_AFTER)
    outcomes.extend(counted(target) for target in COUNTED_AFTER)

    print("\nsummary")
    for outcome in outcomes:
        verdict = "FAILED" if outcome.failed else ("skipped" if outcome.skipped and not outcome.passed else "ok")
        print(
            f"  {verdict:8} {outcome.suite:40} {outcome.passed:6} passed {outcome.failed:4} failed {outcome.seconds:6.0f}s"
        )
        for reason in outcome.skipped:
            print(f"           skipped: {reason}")
    passed = sum(outcome.passed for outcome in outcomes)
    failed = sum(outcome.failed for outcome in outcomes)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
