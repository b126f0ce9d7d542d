"""What users install: the client without the sandbox's dependencies, the matrix's lowest pins, `make sandbox`."""

from __future__ import annotations

import asyncio
import json
import socket
import stat
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from cadenya.sandbox import Store, create_app
from scripts import dependencies
from scripts import sandbox as make_sandbox
from tests.helpers import close_app
from tests.sandbox_support import ROOT

# A finder that makes the sandbox's and the speed-ups' dependencies unimportable, as in a bare install.
WITHOUT_EXTRAS = """
import importlib.abc, sys
BLOCKED = {"starlette", "uvicorn", "jsonschema", "referencing", "cryptography", "yaml", "orjson"}
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Blocker())
"""


def _without_extras(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS + code], capture_output=True, text=True, check=False, cwd=ROOT
    )


def test_the_client_imports_without_any_extra() -> None:
    """Every operation module, the models and the resource client import with httpx, attrs and anyio alone."""
    result = _without_extras(
        "import importlib, pkgutil, cadenya, cadenya.api, cadenya.resources\n"
        "from cadenya import Cadenya, AsyncCadenya\n"
        "for package in (cadenya.api, cadenya.resources):\n"
        "    for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(module.name)\n"
        "import cadenya.models, cadenya.lib.webhooks\n"
        "print('ok')\n"
    )
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr


def test_the_sandbox_without_its_extra_names_the_extra_and_what_is_missing() -> None:
    """`from cadenya.sandbox import Sandbox` without the extra fails with the install command and the missing
    packages."""
    result = _without_extras("from cadenya.sandbox import Sandbox\n")
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ModuleNotFoundError: cadenya.sandbox needs the 'sandbox' extra")
    assert "pip install 'cadenya[sandbox]'" in last_line
    assert "missing: cryptography, jsonschema, pyyaml, referencing, starlette, uvicorn" in last_line


@pytest.mark.parametrize(
    ("declared", "pinned"),
    [
        pytest.param("httpx>=0.23.1,<0.29.0", "httpx==0.23.1", id="range"),
        pytest.param("attrs>=22.2.0", "attrs==22.2.0", id="lower-only"),
        pytest.param("anyio~=4.0", "anyio==4.0", id="compatible-release"),
    ],
)
def test_the_lowest_cell_pins_each_lower_bound_exactly(declared: str, pinned: str) -> None:
    """The matrix's "lowest" set installs each runtime dependency at the lower bound it declares."""
    assert dependencies.lowest_pins([declared]) == [pinned]


def test_a_runtime_dependency_without_a_lower_bound_stops_the_matrix() -> None:
    """A dependency the lowest cell cannot pin is an error, not a silently newest install."""
    with pytest.raises(ValueError, match="must declare exactly one lower bound"):
        dependencies.lowest_pins(["httpx<0.29"])


def test_every_runtime_dependency_declares_a_lower_bound() -> None:
    """pyproject.toml's runtime dependencies can all be pinned to their lowest version."""
    declared = dependencies.runtime_dependencies()
    assert [pin.split("==")[0] for pin in dependencies.lowest_pins(declared)] == ["httpx", "attrs", "anyio"]


SANDBOX_EXTRA = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
    "optional-dependencies"
]["sandbox"]


@pytest.mark.parametrize("declared", [pytest.param(line, id=Requirement(line).name) for line in SANDBOX_EXTRA])
def test_the_sandbox_extra_accepts_every_version_up_to_the_next_major(declared: str) -> None:
    """`cadenya[sandbox]` installs beside other pins: a range from a tested version to the next major, not `==`."""
    requirement = Requirement(declared)
    bounds = {spec.operator: Version(spec.version) for spec in requirement.specifier}
    assert set(bounds) == {">=", "<"}, declared
    assert bounds["<"] == Version(f"{bounds['>='].major + 1}"), declared
    assert version(requirement.name) in requirement.specifier


def test_make_sandbox_refuses_a_port_in_use_and_says_how_to_choose_another(capsys: pytest.CaptureFixture[str]) -> None:
    """A busy port is a clear message and status 2, before any database or account is created."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert make_sandbox.main(["--port", str(port)]) == 2
    assert f"port {port} is in use; choose another with: make sandbox PORT=<port>" in capsys.readouterr().err


def test_make_sandbox_creates_its_account_once_and_keeps_the_tokens_private(tmp_path: Path) -> None:
    """The account is made on the first run and reused after; its tokens are readable by their owner only."""
    db, credentials = tmp_path / "sandbox.db", tmp_path / "account.json"
    first, created = make_sandbox.account_credentials(db, credentials)
    again, renewed = make_sandbox.account_credentials(db, credentials)
    assert first == again == json.loads(credentials.read_text())
    assert created is renewed is None
    assert first["apiKey"].startswith("cad_key_")
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600


def test_make_sandbox_starts_over_when_its_database_is_gone(tmp_path: Path) -> None:
    """Saved credentials without their database give way to a new account, saved owner-readable only."""
    db, credentials = tmp_path / "sandbox.db", tmp_path / "account.json"
    first, _ = make_sandbox.account_credentials(db, credentials)
    db.unlink()
    again, _ = make_sandbox.account_credentials(db, credentials)
    assert again["accountId"] != first["accountId"]
    assert again == json.loads(credentials.read_text())
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    with Store(db) as store:
        assert store.authenticates(again["apiKey"])


def _rotate_the_system_key(db: Path, token: str) -> None:
    app = create_app(db)

    async def rotate() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.invalid", headers=headers) as client:
            (system_key,) = (await client.get("/v1/api-keys")).json()["items"]
            (await client.post(f"/v1/api-keys/{system_key['metadata']['id']}/rotate")).raise_for_status()

    try:
        asyncio.run(rotate())
    finally:
        close_app(app)


def _replace_the_database(db: Path, _token: str) -> None:
    db.unlink()
    with Store(db) as store:
        store.create_account("Another")


def test_make_sandbox_gives_the_system_key_a_new_token_when_the_saved_one_was_rotated(tmp_path: Path) -> None:
    """A saved key rotated since is replaced by a new token of the same account's system key, saved owner-readable
    only; the account keeps its data, and the rotated token stays dead."""
    db, credentials = tmp_path / "sandbox.db", tmp_path / "account.json"
    saved, _ = make_sandbox.account_credentials(db, credentials)
    _rotate_the_system_key(db, saved["apiKey"])
    renewed, note = make_sandbox.account_credentials(db, credentials)
    assert note is not None and "was rotated since" in note
    assert renewed == {**saved, "apiKey": renewed["apiKey"]} == json.loads(credentials.read_text())
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    with Store(db) as store:
        assert store.authenticates(renewed["apiKey"])
        assert not store.authenticates(saved["apiKey"])
    assert make_sandbox.account_credentials(db, credentials) == (renewed, None)


def test_make_sandbox_makes_a_new_account_in_a_database_that_no_longer_holds_its_own(tmp_path: Path) -> None:
    """A database replaced by one of another account gets an account of its own, whose key is saved."""
    db, credentials = tmp_path / "sandbox.db", tmp_path / "account.json"
    saved, _ = make_sandbox.account_credentials(db, credentials)
    _replace_the_database(db, saved["apiKey"])
    renewed, note = make_sandbox.account_credentials(db, credentials)
    assert note == f"the database no longer holds account {saved['accountId']}: a new account was created in it"
    assert renewed["accountId"] != saved["accountId"]
    assert renewed == json.loads(credentials.read_text())
    with Store(db) as store:
        assert store.authenticates(renewed["apiKey"])


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("ftp://127.0.0.1/hooks", id="not-http"),
        pytest.param("127.0.0.1:9100/hooks", id="no-scheme"),
        pytest.param("https://", id="no-host"),
    ],
)
def test_make_sandbox_refuses_a_webhook_url_that_is_not_http(
    url: str, capsys: pytest.CaptureFixture[str], busy_port: int
) -> None:
    """`make sandbox WEBHOOK_URL=...` must be an http(s) URL with a host: a usage error, status 2."""
    with pytest.raises(SystemExit) as exit_:
        make_sandbox.main(["--port", str(busy_port), "--webhook-url", url])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"make sandbox: error: argument --webhook-url: {url!r} is not a valid http:// or https:// URL with a host"
    )
