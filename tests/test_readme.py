"""The README's runnable examples run against the sandbox and type-check strictly, as a user would copy them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import HTTPX2, NEEDS_HTTPX, NEEDS_HTTPX2
from tests.sandbox_support import ROOT, SandboxServer
from tests.test_http_options import Certificates, RecordingProxy, TLSFront

# The sections whose Python blocks are whole programs (each starts with its imports); the other blocks
# are fragments that show one call.
RUNNABLE_SECTIONS = (
    "Quick start",
    "The operation functions beneath",
    "Request ids",
    "Models as JSON",
    "Errors",
    "Rate limits",
    "Your HTTP stack: httpx or httpx2",
    "Testing your integration",
)


def runnable_blocks() -> list[tuple[str, str]]:
    """(section title and line, code) of each whole-program Python block of README.md."""
    blocks = []
    section = ""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if heading := re.match(r"#{2,4} (.+)", line):
            section = heading.group(1)
        if line == "```python":
            end = lines.index("```", index + 1)
            code = "\n".join(lines[index + 1 : end]) + "\n"
            if section in RUNNABLE_SECTIONS and code.startswith(("from ", "import ")):
                blocks.append((f"{section} (line {index + 1})", code))
            index = end
        index += 1
    return blocks


BLOCKS = runnable_blocks()


def test_the_readme_has_its_runnable_examples() -> None:
    """Every whole-program block of the runnable sections is found, in README order."""
    assert [title.split(" (")[0] for title, _ in BLOCKS] == [
        "Quick start",
        "Quick start",
        "The operation functions beneath",
        "Request ids",
        "Models as JSON",
        "Errors",
        "Errors",
        "Rate limits",
        *["Your HTTP stack: httpx or httpx2"] * 8,
        "Testing your integration",
    ]


def _needs(code: str) -> Any:
    """The marks of an example: one that imports httpx2 needs it installed."""
    return NEEDS_HTTPX2 if "import httpx2" in code else ()


@pytest.mark.parametrize(("title", "code"), [pytest.param(t, c, id=t, marks=_needs(c)) for t, c in BLOCKS])
def test_a_readme_example_runs_against_the_sandbox(
    sandbox: SandboxServer, tmp_path: Path, title: str, code: str
) -> None:
    """Copied as it is, with the two environment variables the README names, the example runs to its end."""
    # The HTTP stack's examples read their proxy and certificates from the environment: the proxy records
    # (an example with proxy= must have gone through it), and an example with cert= calls an https:// front
    # of the sandbox that asks for that certificate.
    account = sandbox.new_account("README")
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    certificates = Certificates(tmp_path)
    with RecordingProxy() as proxy, TLSFront(certificates, sandbox.base_url) as tls_front:
        env = {
            **os.environ,
            "CADENYA_BASE_URL": tls_front.base_url if "cert=" in code else sandbox.base_url,
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
    assert result.returncode == 0, f"{title}:\n{result.stdout}{result.stderr}"
    assert bool(proxy.seen) == ("proxy=" in code), proxy.seen


@NEEDS_HTTPX
def test_the_readme_examples_type_check_strictly(tmp_path: Path) -> None:
    """mypy --strict accepts every runnable example against the installed package."""
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n", encoding="utf-8")
    files = []
    # Where httpx2 is not installed, its examples are checked in the cells that have it.
    for number, (_, code) in enumerate((title, code) for title, code in BLOCKS if HTTPX2 or not _needs(code)):
        files.append(tmp_path / f"readme_example_{number}.py")
        files[-1].write_text(code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file", str(config), *map(str, files)],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def pytest_blocks() -> list[tuple[str, str]]:
    """(file name, code) of each README block that is a pytest file: it starts with `# test_<name>.py`."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n# (test_\w+\.py)\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)
    return [(name, code) for name, code in blocks]


@pytest.mark.parametrize("mode", ["http", "in-process"])
def test_the_readmes_test_file_passes_with_the_plugins_fixtures(tmp_path: Path, mode: str) -> None:
    """The README's pytest example, saved under its name in an empty directory, passes in either mode."""
    ((name, code),) = pytest_blocks()
    (tmp_path / name).write_text(code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", f"--cadenya-sandbox={mode}",
         name],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    tests = code.count("\ndef test_")
    assert result.returncode == 0 and f"{tests} passed" in result.stdout, result.stdout + result.stderr
