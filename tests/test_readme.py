"""The code of README.md and CONTRIBUTING.md: every Python block runs against the sandbox and type-checks
strictly, as a user would copy it; every other block says by its language why it is not run; and the
README stays a short, mostly-code page for users."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import HTTPX2, NEEDS_HTTPX, NEEDS_HTTPX2
from tests.sandbox_support import ROOT, SandboxServer
from tests.test_http_options import Certificates, RecordingProxy, TLSFront

DOCUMENTS = ("README.md", "CONTRIBUTING.md")

# The languages of the blocks that are not run, and why.
NOT_RUN = {
    "sh": "shell commands: they install packages, start servers or run make targets on your machine",
    "text": "output, as a command prints it",
}

# The README's feature sections: the first Python block of each calls through the resource client.
CADENYA_FIRST = ("Quick start", "Errors", "Timeouts", "Retries", "Idempotency", "Pagination", "Credentials")


@dataclass(frozen=True)
class Block:
    """One fenced block of a document: where it is, the heading above it, its language and its text."""

    document: str
    line: int
    section: str
    language: str
    code: str

    @property
    def title(self) -> str:
        return f"{self.document}: {self.section} (line {self.line})"

    @property
    def pytest_file(self) -> str | None:
        """The file name of a block that is a pytest file: its first line is `# test_<name>.py`."""
        found = re.match(r"# (test_\w+\.py)\n", self.code)
        return found.group(1) if found else None


def fenced_blocks(document: str) -> list[Block]:
    """Every fenced block of `document`, in order; one indented under a list item is dedented."""
    blocks = []
    section = ""
    lines = (ROOT / document).read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if heading := re.match(r"#{1,4} (.+)", line):
            section = heading.group(1)
        if fence := re.match(r"( *)```(\S*)$", line):
            indent, language = fence.groups()
            end = next(i for i in range(index + 1, len(lines)) if lines[i] == f"{indent}```")
            code = "".join(text.removeprefix(indent) + "\n" for text in lines[index + 1 : end])
            blocks.append(Block(document, index + 1, section, language, code))
            index = end
        index += 1
    return blocks


BLOCKS = [block for document in DOCUMENTS for block in fenced_blocks(document)]
PROGRAMS = [block for block in BLOCKS if block.language == "python" and block.pytest_file is None]
PYTEST_FILES = [block for block in BLOCKS if block.language == "python" and block.pytest_file is not None]


def _needs(block: Block) -> Any:
    """The marks of an example: one that imports httpx2 needs it installed."""
    return NEEDS_HTTPX2 if "import httpx2" in block.code else ()


def test_every_block_is_run_or_says_why_not() -> None:
    """Each fenced block is Python (run below) or of a language that states why it is not run."""
    unexplained = [block.title for block in BLOCKS if block.language != "python" and block.language not in NOT_RUN]
    assert unexplained == []


def test_every_program_is_a_whole_program() -> None:
    """A Python block starts with its imports, so it runs as it is copied."""
    assert [block.title for block in PROGRAMS if not block.code.startswith(("from ", "import "))] == []


def test_the_readme_has_its_examples() -> None:
    """The README has its pytest file and a program in each of its feature sections."""
    sections = {block.section for block in PROGRAMS if block.document == "README.md"}
    assert sections >= {*CADENYA_FIRST, "The operation functions", "Webhooks", "Your HTTP stack: httpx or httpx2"}
    assert [block.pytest_file for block in PYTEST_FILES] == ["test_billing.py"]


@pytest.mark.parametrize("section", CADENYA_FIRST)
def test_a_feature_is_shown_through_the_resource_client_first(section: str) -> None:
    """The first program of a feature section calls through `Cadenya` or `AsyncCadenya`."""
    first = next(block for block in PROGRAMS if block.document == "README.md" and block.section == section)
    assert re.search(r"^from cadenya import .*\b(Async)?Cadenya\b", first.code, flags=re.MULTILINE), first.title


def shape(text: str) -> tuple[int, float]:
    """The words of `text` (split on whitespace, as `wc -w`), and the share of its lines that are inside
    fenced blocks (the fence lines themselves not counted as code)."""
    lines = text.splitlines()
    code, inside = 0, False
    for line in lines:
        if line.lstrip().startswith("```"):
            inside = not inside
        elif inside:
            code += 1
    return len(text.split()), code / len(lines)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("one two\n```python\nx = 1\n```\n", (7, 1 / 4), id="fences-are-not-code"),
        pytest.param("a\n  ```sh\n  make\n  ```\nb c\n", (6, 1 / 5), id="indented-block"),
    ],
)
def test_the_shape_is_counted_as_stated(text: str, expected: tuple[int, float]) -> None:
    """Words are whitespace-separated; code lines are the lines between fences."""
    assert shape(text) == expected


def test_the_readme_stays_short_and_mostly_code() -> None:
    """README.md has at most 5,000 words, and more than half of its lines are code."""
    words, code = shape((ROOT / "README.md").read_text(encoding="utf-8"))
    assert words <= 5000, words
    assert code > 0.5, code


@pytest.mark.parametrize("block", [pytest.param(b, id=b.title, marks=_needs(b)) for b in PROGRAMS])
def test_an_example_runs_against_the_sandbox(sandbox: SandboxServer, tmp_path: Path, block: Block) -> None:
    """Copied as it is, with the two environment variables the README names, the example runs to its end."""
    # The HTTP stack's examples read their proxy and certificates from the environment: the proxy records
    # (an example with proxy= must have gone through it), and an example with cert= calls an https:// front
    # of the sandbox that asks for that certificate.
    account = sandbox.new_account("README")
    script = tmp_path / "example.py"
    script.write_text(block.code, encoding="utf-8")
    certificates = Certificates(tmp_path)
    with RecordingProxy() as proxy, TLSFront(certificates, sandbox.base_url) as tls_front:
        env = {
            **os.environ,
            "CADENYA_BASE_URL": tls_front.base_url if "cert=" in block.code else sandbox.base_url,
            "CADENYA_API_KEY": account["apiKey"],
            "OUTBOUND_PROXY": proxy.url,
            "COMPANY_CA_BUNDLE": str(certificates.ca_file),
            "CLIENT_CERT": str(certificates.client_cert),
            "CLIENT_KEY": str(certificates.client_key),
        }
        result = subprocess.run(
            [sys.executable, str(script)], env=env, cwd=tmp_path, capture_output=True, text=True, check=False,
            timeout=60,
        )  # fmt: skip
    assert result.returncode == 0, f"{block.title}:\n{result.stdout}{result.stderr}"
    assert bool(proxy.seen) == ("proxy=" in block.code), proxy.seen


@NEEDS_HTTPX
def test_the_examples_type_check_strictly(tmp_path: Path) -> None:
    """mypy --strict accepts every program of both documents against the installed package."""
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n", encoding="utf-8")
    files = []
    # Where httpx2 is not installed, its examples are checked in the cells that have it.
    for number, block in enumerate(block for block in PROGRAMS if HTTPX2 or not _needs(block)):
        files.append(tmp_path / f"example_{number}.py")
        files[-1].write_text(block.code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file", str(config), *map(str, files)],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("mode", ["http", "in-process"])
@pytest.mark.parametrize("block", [pytest.param(b, id=b.title) for b in PYTEST_FILES])
def test_a_pytest_file_passes_with_the_plugins_fixtures(tmp_path: Path, block: Block, mode: str) -> None:
    """A pytest example, saved under its name in an empty directory, passes in either mode."""
    assert block.pytest_file is not None
    (tmp_path / block.pytest_file).write_text(block.code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", f"--cadenya-sandbox={mode}",
         block.pytest_file],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    tests = block.code.count("\ndef test_")
    assert result.returncode == 0 and f"{tests} passed" in result.stdout, result.stdout + result.stderr
