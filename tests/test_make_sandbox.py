"""`make sandbox` (scripts/sandbox.py) keeps working after the README's examples have run against it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import cadenya
from cadenya import Cadenya
from cadenya.models import Account
from cadenya.sandbox import free_port, wait_until_listening
from tests.helpers import ROOT
from tests.test_readme import PROGRAMS

# The README's whole programs that call the API with the two variables `make sandbox` prints and nothing
# else (the HTTP stack's read a proxy or certificates from the environment too, or need httpx2; the testing
# one starts a sandbox of its own), and the example that rotates the key it runs with.
EXAMPLES = [
    *(
        (block.title, block.code)
        for block in PROGRAMS
        if block.document == "README.md"
        and "environ" not in block.code
        and "httpx2" not in block.code
        and "cadenya.sandbox" not in block.code
    ),
    ("examples/rotate_key.py", (ROOT / "examples" / "rotate_key.py").read_text(encoding="utf-8")),
]
# Runs each program given as an argument in turn, as `python PROGRAM` would, in one interpreter (they import
# the same modules); the first failure ends it, after naming the program.
RUN_EACH = """
import runpy, sys
for path in sys.argv[1:]:
    print(f"--- {path}", flush=True)
    runpy.run_path(path, run_name="__main__")
"""


@contextlib.contextmanager
def make_sandbox(state: Path, port: int) -> Iterator[dict[str, str]]:
    """`make sandbox` on `port` with its state in `state`, running; yields the variables it printed."""
    command = [sys.executable, "-m", "scripts.sandbox", "--state", str(state), "--port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until_listening(port, server)
        printed: dict[str, str] = {}
        assert server.stdout is not None
        while "CADENYA_API_KEY" not in printed:
            line = server.stdout.readline().decode()
            assert line, "make sandbox printed no CADENYA_API_KEY"
            if line.strip().startswith("export "):
                name, _, value = line.strip().removeprefix("export ").partition("=")
                printed[name] = value
        yield printed
    finally:
        server.terminate()
        server.communicate(timeout=10)


def test_the_examples_run_include_the_one_that_rotates_the_key() -> None:
    """The examples below are the README's quick start and the rest, and the rotation of the key in use."""
    titles = [title for title, _ in EXAMPLES]
    assert titles[0].startswith("README.md: Quick start") and titles[-1] == "examples/rotate_key.py"
    assert len(titles) > 5


def test_make_sandbox_prints_a_working_key_after_every_readme_example(tmp_path: Path) -> None:
    """Every example, run with the key `make sandbox` printed; then `make sandbox` again prints a key that
    calls the same account."""
    state, port = tmp_path / "state", free_port()
    with make_sandbox(state, port) as printed:
        first_account = _account_of(printed).metadata.id
        programs = []
        for number, (title, code) in enumerate(EXAMPLES):
            programs.append(tmp_path / f"example_{number}.py")
            programs[-1].write_text(f"# {title}\n{code}", encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "-c", RUN_EACH, *map(str, programs)], env={**os.environ, **printed}, cwd=tmp_path,
            capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        with pytest.raises(cadenya.AuthenticationError):
            _account_of(printed)  # the rotation example left that key dead
    with make_sandbox(state, port) as printed_again:
        assert _account_of(printed_again).metadata.id == first_account


def _account_of(printed: dict[str, str]) -> Account:
    with Cadenya(token=printed["CADENYA_API_KEY"], base_url=printed["CADENYA_BASE_URL"], max_retries=0) as client:
        account = client.account.get()
    assert isinstance(account, Account)
    return account
