"""scripts/ci.py: `make test`'s summary adds up every suite, and never counts a skipped cell as passed."""

from __future__ import annotations

import pytest

from scripts import ci


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        pytest.param("==== 1540 passed in 58.38s ====", (1540, 0, 0), id="all-passed"),
        pytest.param("==== 3 failed, 1537 passed, 1 skipped in 60.1s ====", (1537, 3, 1), id="mixed"),
        pytest.param("==== 1 passed, 2 errors in 1.0s ====", (1, 2, 0), id="errors-count-as-failed"),
        pytest.param("1540 passed in 58.38s", (1540, 0, 0), id="quiet-footer"),
        pytest.param(
            "== 10 passed in 1.0s ==\nnox > Session a was successful\n== 2 failed, 8 passed in 1.0s ==",
            (18, 2, 0),
            id="two-runs",
        ),
    ],
)
def test_pytest_counts_add_up_every_footer(output: str, expected: tuple[int, int, int]) -> None:
    """Each pytest footer in the output adds its passed, failed (errors included) and skipped counts."""
    assert ci.pytest_counts(output) == expected


def test_output_without_a_pytest_footer_has_no_counts() -> None:
    """A run that died before pytest's footer gives no counts (the caller counts it as a failure)."""
    assert ci.pytest_counts("1 warning in 45.43s\nERROR: ResolutionImpossible") is None


def test_a_matrix_cell_without_its_interpreter_is_skipped_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """nox's report of a missing interpreter becomes a named skip, with no test counted as passed."""
    report = {
        "sessions": [
            {
                "name": "tests",
                "args": {"deps": "lowest"},
                "result": "success",
                "reason": None,
                "signatures": ["tests-3.11(deps='lowest')", "tests-3.11"],
            },
            {
                "name": "tests",
                "args": {"deps": "lowest"},
                "result": "skipped",
                "reason": "Python interpreter 3.14 not found",
                "signatures": ["tests-3.14(deps='lowest')", "tests-3.14"],
            },
        ]
    }
    output = (
        "nox > Running session tests-3.11(deps='lowest')\n== 12 passed in 1.0s ==\n"
        "nox > Running session tests-3.14(deps='lowest')\n"
        "nox > Session tests-3.14(deps='lowest') skipped: Python interpreter 3.14 not found.\n"
    )
    monkeypatch.setattr(ci, "run", lambda target, *extra: (0, output))
    monkeypatch.setattr(ci, "read_report", lambda path: report)
    outcomes = ci.matrix()
    assert [(o.suite, o.passed, o.failed) for o in outcomes] == [
        ("matrix tests-3.11(deps='lowest')", 12, 0),
        ("matrix tests-3.14(deps='lowest')", 0, 0),
    ]
    assert outcomes[1].skipped == ["tests-3.14(deps='lowest'): Python interpreter 3.14 not found"]


def test_a_matrix_cell_that_fails_before_pytest_counts_as_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cell whose install failed printed no pytest footer: it counts as one failure, not zero."""
    report = {
        "sessions": [
            {
                "name": "tests",
                "args": {"deps": "lowest"},
                "result": "failed",
                "reason": None,
                "signatures": ["tests-3.12(deps='lowest')", "tests-3.12"],
            }
        ]
    }
    output = "nox > Running session tests-3.12(deps='lowest')\nERROR: ResolutionImpossible\n"
    monkeypatch.setattr(ci, "run", lambda target, *extra: (1, output))
    monkeypatch.setattr(ci, "read_report", lambda path: report)
    assert [(o.passed, o.failed) for o in ci.matrix()] == [(0, 1)]


def test_a_matrix_run_without_a_report_is_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    """nox that could not even start (no report written) is a failure of the matrix."""
    monkeypatch.setattr(ci, "run", lambda target, *extra: (2, "nox: error"))
    monkeypatch.setattr(ci, "read_report", lambda path: None)
    assert [(o.suite, o.failed) for o in ci.matrix()] == [("matrix", 1)]


@pytest.mark.parametrize(
    ("status", "output", "expected"),
    [
        pytest.param(0, "Test cases:\n  1677 generated, 1677 passed, 45 skipped", (1677, 0), id="passed"),
        pytest.param(1, "Test cases:\n  100 generated, 97 passed, 3 failed", (97, 3), id="failed-cases"),
        pytest.param(1, "schemathesis failed (exit 2)", (0, 1), id="crashed"),
    ],
)
def test_the_contract_suite_counts_schemathesis_cases(
    monkeypatch: pytest.MonkeyPatch, status: int, output: str, expected: tuple[int, int]
) -> None:
    """schemathesis's own counts are the contract suite's; a crash without counts is one failure."""
    monkeypatch.setattr(ci, "run", lambda target, *extra: (status, output))
    outcome = ci.contract()
    assert (outcome.passed, outcome.failed) == expected


def test_the_last_line_is_the_plain_sum(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The summary ends with `N passed, N failed` over every suite, and the status says whether any failed."""
    monkeypatch.setattr(
        ci,
        "plain",
        lambda target: ci.Outcome(target, passed=int(target != "typecheck"), failed=int(target == "typecheck")),
    )
    monkeypatch.setattr(
        ci, "matrix", lambda: [ci.Outcome("matrix a", passed=100), ci.Outcome("matrix b", passed=90, failed=2)]
    )
    monkeypatch.setattr(ci, "contract", lambda: ci.Outcome("contract", passed=50))
    monkeypatch.setattr(ci, "counted", lambda target: ci.Outcome(target, passed=12))
    status = ci.main()
    last = capsys.readouterr().out.rstrip("\n").splitlines()[-1]
    suites_passed = len(ci.PLAIN_BEFORE) + len(ci.PLAIN_AFTER) - 1
    assert last == f"{240 + 12 * len(ci.COUNTED_AFTER) + suites_passed} passed, 3 failed"
    assert status == 1


@pytest.mark.parametrize(
    ("status", "output", "expected"),
    [
        pytest.param(0, "===== 6 passed in 2.1s =====\n===== 6 passed in 0.9s =====\n", (12, 0), id="two-runs"),
        pytest.param(1, "===== 5 passed, 1 failed in 2.1s =====\n", (5, 1), id="one-failed"),
        pytest.param(1, "example tests failed: pip install ...\n", (0, 1), id="failed-before-pytest"),
    ],
)
def test_a_counted_suite_adds_its_pytest_counts(
    monkeypatch: pytest.MonkeyPatch, status: int, output: str, expected: tuple[int, int]
) -> None:
    """The example suite's pytest footers are its counts; failing before any pytest ran is one failure."""
    monkeypatch.setattr(ci, "run", lambda target, *extra: (status, output))
    outcome = ci.counted("example-tests")
    assert (outcome.passed, outcome.failed) == expected
